-- The hardened RecordRegistry keys records and anchors by their custodian (a copy of someone
-- else's anchor lands in the copier's own key space) and never publishes a record's
-- category, only a salted category commitment. Rows of the earlier contracts cannot be
-- carried over: they come from a different deployment.

DROP TABLE records;
DROP TABLE record_versions;

-- The latest state of each record.
CREATE TABLE records (
    custodian           TEXT    NOT NULL,
    record_id           TEXT    NOT NULL,
    patient             TEXT    NOT NULL,
    category_commitment TEXT    NOT NULL,
    latest_version      INTEGER NOT NULL,
    latest_commitment   TEXT    NOT NULL,
    PRIMARY KEY (custodian, record_id)
);
CREATE INDEX records_patient ON records (patient);

-- Every anchored commitment, per custodian.
CREATE TABLE record_versions (
    custodian           TEXT    NOT NULL,
    commitment          TEXT    NOT NULL,
    record_id           TEXT    NOT NULL,
    version             INTEGER NOT NULL,
    patient             TEXT    NOT NULL,
    category_commitment TEXT    NOT NULL,
    block_number        INTEGER NOT NULL,
    anchored_at         INTEGER NOT NULL,
    superseded_by       TEXT,
    PRIMARY KEY (custodian, commitment)
);
CREATE INDEX record_versions_commitment ON record_versions (commitment);
