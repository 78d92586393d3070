-- Every contract event gets a projection, the database records which chain and contracts it
-- mirrors, and events that do not decode are kept raw with the reason.

-- What this database mirrors (one row): set on first start, checked on every later one.
CREATE TABLE mirror (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    genesis_hash    TEXT    NOT NULL,
    consent_registry TEXT   NOT NULL,
    record_registry TEXT    NOT NULL,
    start_block     INTEGER NOT NULL
);

-- The watched contracts and the code they run now (ContractUpgraded moves it on).
CREATE TABLE contracts (
    address         TEXT    PRIMARY KEY,
    name            TEXT    NOT NULL,
    code_hash       TEXT    NOT NULL,
    storage_version INTEGER,
    updated_block   INTEGER NOT NULL
);

-- Events of a watched contract that did not decode, raw, with the reason.
CREATE TABLE undecoded_events (
    block_number INTEGER NOT NULL,
    event_index  INTEGER NOT NULL,
    contract     TEXT    NOT NULL,
    topics       TEXT    NOT NULL,
    data         TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    PRIMARY KEY (block_number, event_index)
);

-- Registrar proposals and handovers, in chain order.
CREATE TABLE registrar_history (
    block_number INTEGER NOT NULL,
    event_index  INTEGER NOT NULL,
    action       TEXT    NOT NULL CHECK (action IN ('proposed', 'changed')),
    from_account TEXT    NOT NULL,
    to_account   TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (block_number, event_index)
);

-- The registrar's policy, each time it changed.
CREATE TABLE policy_history (
    block_number          INTEGER NOT NULL,
    event_index           INTEGER NOT NULL,
    emergency_window_ms   INTEGER NOT NULL,
    emergency_cooldown_ms INTEGER NOT NULL,
    max_delegation_ms     INTEGER NOT NULL,
    at                    INTEGER NOT NULL,
    PRIMARY KEY (block_number, event_index)
);

-- Code upgrades of the watched contracts.
CREATE TABLE upgrades (
    block_number    INTEGER NOT NULL,
    event_index     INTEGER NOT NULL,
    contract        TEXT    NOT NULL,
    code_hash       TEXT    NOT NULL,
    from_version    INTEGER NOT NULL,
    storage_version INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    PRIMARY KEY (block_number, event_index)
);

-- Each patient's delegates: the latest setting of each pair, removed ones kept.
CREATE TABLE delegations (
    patient       TEXT    NOT NULL,
    delegate      TEXT    NOT NULL,
    expires_at    INTEGER NOT NULL,
    set_block     INTEGER NOT NULL,
    set_at        INTEGER NOT NULL,
    removed_block INTEGER,
    removed_at    INTEGER,
    PRIMARY KEY (patient, delegate)
);
CREATE INDEX delegations_delegate ON delegations (delegate);

-- Break-glass windows: opened by a provider, ended by the patient, a delegate or a block,
-- or by time (ends_at).
CREATE TABLE emergency_windows (
    opened_block       INTEGER NOT NULL,
    opened_index       INTEGER NOT NULL,
    patient            TEXT    NOT NULL,
    provider           TEXT    NOT NULL,
    reason             TEXT    NOT NULL,
    justification_hash TEXT    NOT NULL,
    opened_at          INTEGER NOT NULL,
    ends_at            INTEGER NOT NULL,
    ended_block        INTEGER,
    ended_at           INTEGER,
    ended_by           TEXT,
    cooldown_until     INTEGER,
    PRIMARY KEY (opened_block, opened_index)
);
CREATE INDEX emergency_windows_pair ON emergency_windows (patient, provider);

-- Providers a patient blocked from breaking glass (the latest change of each pair).
CREATE TABLE emergency_blocks (
    patient       TEXT    NOT NULL,
    provider      TEXT    NOT NULL,
    blocked       INTEGER NOT NULL,
    changed_by    TEXT    NOT NULL,
    changed_block INTEGER NOT NULL,
    changed_at    INTEGER NOT NULL,
    PRIMARY KEY (patient, provider)
);

-- The access log: accesses recorded as allowed, and denied attempts.
CREATE TABLE access_log (
    block_number     INTEGER NOT NULL,
    event_index      INTEGER NOT NULL,
    patient          TEXT    NOT NULL,
    accessor         TEXT    NOT NULL,
    outcome          TEXT    NOT NULL CHECK (outcome IN ('recorded', 'denied')),
    record_custodian TEXT,
    record_id        TEXT,
    categories       INTEGER NOT NULL,
    purpose          TEXT    NOT NULL,
    emergency        INTEGER NOT NULL,
    at               INTEGER NOT NULL,
    PRIMARY KEY (block_number, event_index)
);
CREATE INDEX access_log_patient ON access_log (patient, block_number);

-- Merkle roots anchored for a batch of records.
CREATE TABLE batches (
    org          TEXT    NOT NULL,
    root         TEXT    NOT NULL,
    leaf_count   INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    anchored_at  INTEGER NOT NULL,
    PRIMARY KEY (org, root)
);

-- Insurance claims and the anchored documents each used.
CREATE TABLE claims (
    insurer      TEXT    NOT NULL,
    claim_ref    TEXT    NOT NULL,
    patient      TEXT    NOT NULL,
    all_current  INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    event_index  INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (insurer, claim_ref)
);
CREATE INDEX claims_patient ON claims (patient);

CREATE TABLE claim_documents (
    insurer    TEXT    NOT NULL,
    claim_ref  TEXT    NOT NULL,
    position   INTEGER NOT NULL,
    custodian  TEXT    NOT NULL,
    commitment TEXT    NOT NULL,
    PRIMARY KEY (insurer, claim_ref, position)
);
CREATE INDEX claim_documents_commitment ON claim_documents (commitment);

-- A document used again in another claim for the same patient.
CREATE TABLE duplicate_claim_uses (
    block_number    INTEGER NOT NULL,
    event_index     INTEGER NOT NULL,
    patient         TEXT    NOT NULL,
    insurer         TEXT    NOT NULL,
    commitment      TEXT    NOT NULL,
    claim_ref       TEXT    NOT NULL,
    first_insurer   TEXT    NOT NULL,
    first_claim_ref TEXT    NOT NULL,
    at              INTEGER NOT NULL,
    PRIMARY KEY (block_number, event_index)
);
CREATE INDEX duplicate_claim_uses_patient ON duplicate_claim_uses (patient);
