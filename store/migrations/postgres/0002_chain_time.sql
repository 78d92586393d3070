-- Judgements by chain time: the cursor keeps its block's time (the chain time the mirror has
-- reached), and organizations and delegations keep their history, so that an authorization
-- can be judged at any past instant exactly as the contract judged it then.

ALTER TABLE cursor ADD COLUMN block_time BIGINT NOT NULL DEFAULT 0;
-- A database indexed before this step knows the times of blocks with events only: its cursor
-- starts at the last of those and moves to its own block's time at the next commit.
UPDATE cursor SET block_time = COALESCE(
    (SELECT MAX(timestamp_ms) FROM blocks WHERE number <= cursor.block_number), 0);

-- Registrations, suspensions and reinstatements, in chain order.
CREATE TABLE organization_history (
    block_number BIGINT NOT NULL,
    event_index  BIGINT NOT NULL,
    account      TEXT COLLATE "C"    NOT NULL,
    action       TEXT COLLATE "C"    NOT NULL
                 CHECK (action IN ('registered', 'suspended', 'reinstated')),
    at           BIGINT NOT NULL,
    PRIMARY KEY (block_number, event_index)
);
CREATE INDEX organization_history_account ON organization_history (account);

-- Delegations set (or extended) and removed, in chain order.
CREATE TABLE delegation_history (
    block_number BIGINT NOT NULL,
    event_index  BIGINT NOT NULL,
    patient      TEXT COLLATE "C"    NOT NULL,
    delegate     TEXT COLLATE "C"    NOT NULL,
    action       TEXT COLLATE "C"    NOT NULL CHECK (action IN ('set', 'removed')),
    expires_at   BIGINT,
    at           BIGINT NOT NULL,
    PRIMARY KEY (block_number, event_index)
);
CREATE INDEX delegation_history_patient ON delegation_history (patient);

-- The history of what was indexed before this step, from the raw events.
INSERT INTO organization_history (block_number, event_index, account, action, at)
SELECT e.block_number, e.event_index, e.payload::jsonb ->> 'org',
       CASE e.kind WHEN 'OrgRegistered' THEN 'registered'
                   WHEN 'OrgSuspended' THEN 'suspended' ELSE 'reinstated' END,
       b.timestamp_ms
FROM events e JOIN blocks b ON b.number = e.block_number
WHERE e.kind IN ('OrgRegistered', 'OrgSuspended', 'OrgReinstated');

INSERT INTO delegation_history (block_number, event_index, patient, delegate, action,
                                expires_at, at)
SELECT e.block_number, e.event_index, e.payload::jsonb ->> 'patient',
       e.payload::jsonb ->> 'delegate',
       CASE e.kind WHEN 'DelegateSet' THEN 'set' ELSE 'removed' END,
       CASE e.kind WHEN 'DelegateSet'
            THEN LEAST((e.payload::jsonb ->> 'expires_at')::numeric, 9223372036854775807)::bigint
       END,
       b.timestamp_ms
FROM events e JOIN blocks b ON b.number = e.block_number
WHERE e.kind IN ('DelegateSet', 'DelegateRemoved');
