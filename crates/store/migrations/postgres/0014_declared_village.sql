-- The village a self-declaration's declarant chose (issue 14). A registered person's
-- declaration goes to the village where the household is registered: `division_code` (and
-- `county_code`) are that village's, whose officers read it; `declared_division_code` keeps the
-- village the declarant chose, which is what the public tracking page shows.
ALTER TABLE declarations ADD COLUMN declared_division_code TEXT REFERENCES divisions (code);
UPDATE declarations SET declared_division_code = division_code;
ALTER TABLE declarations ALTER COLUMN declared_division_code SET NOT NULL;
