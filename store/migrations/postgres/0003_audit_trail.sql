-- Each raw event names the patient it touched (null for events that touch none, e.g. an
-- organization's registration), so that a patient's audit trail is one indexed read.

ALTER TABLE events ADD COLUMN patient TEXT COLLATE "C";
UPDATE events SET patient = payload::jsonb ->> 'patient';
CREATE INDEX events_patient ON events (patient, block_number, event_index);
