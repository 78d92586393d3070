-- The medledger read model on PostgreSQL: the same tables as the SQLite migrations, in one
-- step. Accounts are SS58 text (prefix 42), hashes 0x-hex text, times milliseconds since the
-- Unix epoch (block time); integers are BIGINT and flags 0/1 so that both backends read back
-- the same values; text sorts byte-wise (COLLATE "C"), as in SQLite. Only the indexer writes
-- here.
-- Blocks that carried medledger events.
CREATE TABLE blocks (
    number       BIGINT PRIMARY KEY,
    hash         TEXT COLLATE "C"    NOT NULL,
    timestamp_ms BIGINT NOT NULL
);

-- Every decoded contract event, raw, for audit. Keyed so a replay changes nothing.
CREATE TABLE events (
    block_number BIGINT NOT NULL,
    event_index  BIGINT NOT NULL,
    contract     TEXT COLLATE "C"    NOT NULL,
    kind         TEXT COLLATE "C"    NOT NULL,
    payload      TEXT COLLATE "C"    NOT NULL,
    PRIMARY KEY (block_number, event_index)
);

CREATE TABLE organizations (
    account          TEXT COLLATE "C"    PRIMARY KEY,
    role             TEXT COLLATE "C"    NOT NULL,
    flags            BIGINT NOT NULL,
    active           BIGINT NOT NULL,
    registered_block BIGINT NOT NULL,
    registered_at    BIGINT NOT NULL
);

-- The current consent of each (patient, grantee) pair.
CREATE TABLE consents (
    patient       TEXT COLLATE "C"    NOT NULL,
    grantee       TEXT COLLATE "C"    NOT NULL,
    categories    BIGINT NOT NULL,
    purposes      BIGINT NOT NULL,
    access        BIGINT NOT NULL,
    valid_from    BIGINT NOT NULL,
    expires_at    BIGINT,
    terms_hash    TEXT COLLATE "C"    NOT NULL,
    version       BIGINT NOT NULL,
    revoked       BIGINT NOT NULL,
    updated_by    TEXT COLLATE "C"    NOT NULL,
    updated_block BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (patient, grantee)
);

-- Every grant and revocation, in chain order.
CREATE TABLE consent_history (
    block_number BIGINT NOT NULL,
    event_index  BIGINT NOT NULL,
    patient      TEXT COLLATE "C"    NOT NULL,
    grantee      TEXT COLLATE "C"    NOT NULL,
    action       TEXT COLLATE "C"    NOT NULL CHECK (action IN ('granted', 'revoked')),
    version      BIGINT NOT NULL,
    categories   BIGINT,
    purposes     BIGINT,
    access       BIGINT,
    valid_from   BIGINT,
    expires_at   BIGINT,
    terms_hash   TEXT COLLATE "C",
    by_account   TEXT COLLATE "C"    NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (block_number, event_index)
);
CREATE INDEX consent_history_pair ON consent_history (patient, grantee);

-- How far the indexer got (one row), and the finalized head it last saw.
CREATE TABLE cursor (
    id             BIGINT PRIMARY KEY CHECK (id = 1),
    block_number   BIGINT NOT NULL,
    block_hash     TEXT COLLATE "C"    NOT NULL,
    finalized_head BIGINT NOT NULL
);

-- The latest state of each record.
CREATE TABLE records (
    custodian           TEXT COLLATE "C"    NOT NULL,
    record_id           TEXT COLLATE "C"    NOT NULL,
    patient             TEXT COLLATE "C"    NOT NULL,
    category_commitment TEXT COLLATE "C"    NOT NULL,
    latest_version      BIGINT NOT NULL,
    latest_commitment   TEXT COLLATE "C"    NOT NULL,
    PRIMARY KEY (custodian, record_id)
);
CREATE INDEX records_patient ON records (patient);

-- Every anchored commitment, per custodian.
CREATE TABLE record_versions (
    custodian           TEXT COLLATE "C"    NOT NULL,
    commitment          TEXT COLLATE "C"    NOT NULL,
    record_id           TEXT COLLATE "C"    NOT NULL,
    version             BIGINT NOT NULL,
    patient             TEXT COLLATE "C"    NOT NULL,
    category_commitment TEXT COLLATE "C"    NOT NULL,
    block_number        BIGINT NOT NULL,
    anchored_at         BIGINT NOT NULL,
    superseded_by       TEXT COLLATE "C",
    PRIMARY KEY (custodian, commitment)
);
CREATE INDEX record_versions_commitment ON record_versions (commitment);

-- What this database mirrors (one row): set on first start, checked on every later one.
CREATE TABLE mirror (
    id              BIGINT PRIMARY KEY CHECK (id = 1),
    genesis_hash    TEXT COLLATE "C"    NOT NULL,
    consent_registry TEXT COLLATE "C"   NOT NULL,
    record_registry TEXT COLLATE "C"    NOT NULL,
    start_block     BIGINT NOT NULL
);

-- The watched contracts and the code they run now (ContractUpgraded moves it on).
CREATE TABLE contracts (
    address         TEXT COLLATE "C"    PRIMARY KEY,
    name            TEXT COLLATE "C"    NOT NULL,
    code_hash       TEXT COLLATE "C"    NOT NULL,
    storage_version BIGINT,
    updated_block   BIGINT NOT NULL
);

-- Events of a watched contract that did not decode, raw, with the reason.
CREATE TABLE undecoded_events (
    block_number BIGINT NOT NULL,
    event_index  BIGINT NOT NULL,
    contract     TEXT COLLATE "C"    NOT NULL,
    topics       TEXT COLLATE "C"    NOT NULL,
    data         TEXT COLLATE "C"    NOT NULL,
    reason       TEXT COLLATE "C"    NOT NULL,
    PRIMARY KEY (block_number, event_index)
);

-- Registrar proposals and handovers, in chain order.
CREATE TABLE registrar_history (
    block_number BIGINT NOT NULL,
    event_index  BIGINT NOT NULL,
    action       TEXT COLLATE "C"    NOT NULL CHECK (action IN ('proposed', 'changed')),
    from_account TEXT COLLATE "C"    NOT NULL,
    to_account   TEXT COLLATE "C"    NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (block_number, event_index)
);

-- The registrar's policy, each time it changed.
CREATE TABLE policy_history (
    block_number          BIGINT NOT NULL,
    event_index           BIGINT NOT NULL,
    emergency_window_ms   BIGINT NOT NULL,
    emergency_cooldown_ms BIGINT NOT NULL,
    max_delegation_ms     BIGINT NOT NULL,
    at                    BIGINT NOT NULL,
    PRIMARY KEY (block_number, event_index)
);

-- Code upgrades of the watched contracts.
CREATE TABLE upgrades (
    block_number    BIGINT NOT NULL,
    event_index     BIGINT NOT NULL,
    contract        TEXT COLLATE "C"    NOT NULL,
    code_hash       TEXT COLLATE "C"    NOT NULL,
    from_version    BIGINT NOT NULL,
    storage_version BIGINT NOT NULL,
    at              BIGINT NOT NULL,
    PRIMARY KEY (block_number, event_index)
);

-- Each patient's delegates: the latest setting of each pair, removed ones kept.
CREATE TABLE delegations (
    patient       TEXT COLLATE "C"    NOT NULL,
    delegate      TEXT COLLATE "C"    NOT NULL,
    expires_at    BIGINT NOT NULL,
    set_block     BIGINT NOT NULL,
    set_at        BIGINT NOT NULL,
    removed_block BIGINT,
    removed_at    BIGINT,
    PRIMARY KEY (patient, delegate)
);
CREATE INDEX delegations_delegate ON delegations (delegate);

-- Break-glass windows: opened by a provider, ended by the patient, a delegate or a block,
-- or by time (ends_at).
CREATE TABLE emergency_windows (
    opened_block       BIGINT NOT NULL,
    opened_index       BIGINT NOT NULL,
    patient            TEXT COLLATE "C"    NOT NULL,
    provider           TEXT COLLATE "C"    NOT NULL,
    reason             TEXT COLLATE "C"    NOT NULL,
    justification_hash TEXT COLLATE "C"    NOT NULL,
    opened_at          BIGINT NOT NULL,
    ends_at            BIGINT NOT NULL,
    ended_block        BIGINT,
    ended_at           BIGINT,
    ended_by           TEXT COLLATE "C",
    cooldown_until     BIGINT,
    PRIMARY KEY (opened_block, opened_index)
);
CREATE INDEX emergency_windows_pair ON emergency_windows (patient, provider);

-- Providers a patient blocked from breaking glass (the latest change of each pair).
CREATE TABLE emergency_blocks (
    patient       TEXT COLLATE "C"    NOT NULL,
    provider      TEXT COLLATE "C"    NOT NULL,
    blocked       BIGINT NOT NULL,
    changed_by    TEXT COLLATE "C"    NOT NULL,
    changed_block BIGINT NOT NULL,
    changed_at    BIGINT NOT NULL,
    PRIMARY KEY (patient, provider)
);

-- The access log: accesses recorded as allowed, and denied attempts.
CREATE TABLE access_log (
    block_number     BIGINT NOT NULL,
    event_index      BIGINT NOT NULL,
    patient          TEXT COLLATE "C"    NOT NULL,
    accessor         TEXT COLLATE "C"    NOT NULL,
    outcome          TEXT COLLATE "C"    NOT NULL CHECK (outcome IN ('recorded', 'denied')),
    record_custodian TEXT COLLATE "C",
    record_id        TEXT COLLATE "C",
    categories       BIGINT NOT NULL,
    purpose          TEXT COLLATE "C"    NOT NULL,
    emergency        BIGINT NOT NULL,
    at               BIGINT NOT NULL,
    PRIMARY KEY (block_number, event_index)
);
CREATE INDEX access_log_patient ON access_log (patient, block_number);

-- Merkle roots anchored for a batch of records.
CREATE TABLE batches (
    org          TEXT COLLATE "C"    NOT NULL,
    root         TEXT COLLATE "C"    NOT NULL,
    leaf_count   BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    anchored_at  BIGINT NOT NULL,
    PRIMARY KEY (org, root)
);

-- Insurance claims and the anchored documents each used.
CREATE TABLE claims (
    insurer      TEXT COLLATE "C"    NOT NULL,
    claim_ref    TEXT COLLATE "C"    NOT NULL,
    patient      TEXT COLLATE "C"    NOT NULL,
    all_current  BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    event_index  BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (insurer, claim_ref)
);
CREATE INDEX claims_patient ON claims (patient);

CREATE TABLE claim_documents (
    insurer    TEXT COLLATE "C"    NOT NULL,
    claim_ref  TEXT COLLATE "C"    NOT NULL,
    position   BIGINT NOT NULL,
    custodian  TEXT COLLATE "C"    NOT NULL,
    commitment TEXT COLLATE "C"    NOT NULL,
    PRIMARY KEY (insurer, claim_ref, position)
);
CREATE INDEX claim_documents_commitment ON claim_documents (commitment);

-- A document used again in another claim for the same patient.
CREATE TABLE duplicate_claim_uses (
    block_number    BIGINT NOT NULL,
    event_index     BIGINT NOT NULL,
    patient         TEXT COLLATE "C"    NOT NULL,
    insurer         TEXT COLLATE "C"    NOT NULL,
    commitment      TEXT COLLATE "C"    NOT NULL,
    claim_ref       TEXT COLLATE "C"    NOT NULL,
    first_insurer   TEXT COLLATE "C"    NOT NULL,
    first_claim_ref TEXT COLLATE "C"    NOT NULL,
    at              BIGINT NOT NULL,
    PRIMARY KEY (block_number, event_index)
);
CREATE INDEX duplicate_claim_uses_patient ON duplicate_claim_uses (patient);
