-- The medledger read model. Accounts are SS58 text (prefix 42), hashes 0x-hex text,
-- times milliseconds since the Unix epoch (block time). Only the indexer writes here.

-- Blocks that carried medledger events.
CREATE TABLE blocks (
    number       INTEGER PRIMARY KEY,
    hash         TEXT    NOT NULL,
    timestamp_ms INTEGER NOT NULL
);

-- Every decoded contract event, raw, for audit. Keyed so a replay changes nothing.
CREATE TABLE events (
    block_number INTEGER NOT NULL,
    event_index  INTEGER NOT NULL,
    contract     TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    PRIMARY KEY (block_number, event_index)
);

CREATE TABLE organizations (
    account          TEXT    PRIMARY KEY,
    role             TEXT    NOT NULL,
    flags            INTEGER NOT NULL,
    active           INTEGER NOT NULL,
    registered_block INTEGER NOT NULL,
    registered_at    INTEGER NOT NULL
);

-- The current consent of each (patient, grantee) pair.
CREATE TABLE consents (
    patient       TEXT    NOT NULL,
    grantee       TEXT    NOT NULL,
    categories    INTEGER NOT NULL,
    purposes      INTEGER NOT NULL,
    access        INTEGER NOT NULL,
    valid_from    INTEGER NOT NULL,
    expires_at    INTEGER,
    terms_hash    TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    revoked       INTEGER NOT NULL,
    updated_by    TEXT    NOT NULL,
    updated_block INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (patient, grantee)
);

-- Every grant and revocation, in chain order.
CREATE TABLE consent_history (
    block_number INTEGER NOT NULL,
    event_index  INTEGER NOT NULL,
    patient      TEXT    NOT NULL,
    grantee      TEXT    NOT NULL,
    action       TEXT    NOT NULL CHECK (action IN ('granted', 'revoked')),
    version      INTEGER NOT NULL,
    categories   INTEGER,
    purposes     INTEGER,
    access       INTEGER,
    valid_from   INTEGER,
    expires_at   INTEGER,
    terms_hash   TEXT,
    by_account   TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (block_number, event_index)
);
CREATE INDEX consent_history_pair ON consent_history (patient, grantee);

-- The latest state of each record.
CREATE TABLE records (
    record_id         TEXT    PRIMARY KEY,
    patient           TEXT    NOT NULL,
    custodian         TEXT    NOT NULL,
    category          TEXT    NOT NULL,
    latest_version    INTEGER NOT NULL,
    latest_commitment TEXT    NOT NULL
);
CREATE INDEX records_patient ON records (patient);

-- Every anchored commitment.
CREATE TABLE record_versions (
    commitment    TEXT    PRIMARY KEY,
    record_id     TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    patient       TEXT    NOT NULL,
    custodian     TEXT    NOT NULL,
    category      TEXT    NOT NULL,
    block_number  INTEGER NOT NULL,
    anchored_at   INTEGER NOT NULL,
    superseded_by TEXT
);

-- How far the indexer got (one row), and the finalized head it last saw.
CREATE TABLE cursor (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    block_number   INTEGER NOT NULL,
    block_hash     TEXT    NOT NULL,
    finalized_head INTEGER NOT NULL
);
