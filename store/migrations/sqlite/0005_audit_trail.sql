-- Each raw event names the patient it touched (null for events that touch none, e.g. an
-- organization's registration), so that a patient's audit trail is one indexed read.

ALTER TABLE events ADD COLUMN patient TEXT;
UPDATE events SET patient = json_extract(payload, '$.patient');
CREATE INDEX events_patient ON events (patient, block_number, event_index);
