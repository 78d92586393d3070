-- The contracts' third release: organizations carry the name, kind and identifiers people
-- know them by; a reused claim document says whether the same insurer claimed it before and
-- whether it is the same document or another version of its record; upgrades are announced
-- and wait a delay.

-- Null until the registrar gives an organization of the second release a profile.
ALTER TABLE organizations ADD COLUMN name TEXT;
ALTER TABLE organizations ADD COLUMN kind TEXT COLLATE "C";
-- A JSON array of {"system", "value"}.
ALTER TABLE organizations ADD COLUMN identifiers TEXT NOT NULL DEFAULT '[]';

-- Signals of the second release followed commitments only: the same document, and the
-- first insurer that claimed it.
ALTER TABLE duplicate_claim_uses ADD COLUMN reuse TEXT COLLATE "C" NOT NULL DEFAULT 'OtherInsurer';
ALTER TABLE duplicate_claim_uses ADD COLUMN overlap TEXT COLLATE "C" NOT NULL DEFAULT 'SameDocument';
UPDATE duplicate_claim_uses SET reuse = 'SameInsurer' WHERE insurer = first_insurer;

-- The upgrade announced for each watched contract, until it is applied or withdrawn.
ALTER TABLE contracts ADD COLUMN pending_code_hash TEXT COLLATE "C";
ALTER TABLE contracts ADD COLUMN pending_effective_at BIGINT;
ALTER TABLE contracts ADD COLUMN announced_block BIGINT;
