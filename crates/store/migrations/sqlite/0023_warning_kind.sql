-- Issue 17 item 2: a warning on a household already monitored (identified, risk not
-- eliminated) is not a lead for identification but a new risk of a monitored household, for its
-- responsible cadre. The kind is decided when a warning is raised (store::warnings::decide_kind)
-- and kept. Warnings raised before this migration: a new risk when the household is monitored
-- now and was already identified on the day the warning was raised (or was monitored before
-- zhenxing kept identification dates); the others stay leads.
ALTER TABLE warnings ADD COLUMN kind TEXT NOT NULL DEFAULT 'lead';
UPDATE warnings SET kind = 'monitored_risk'
WHERE EXISTS (
    SELECT 1 FROM households h
    WHERE h.household_no = warnings.household_no
      AND h.monitoring_category IS NOT NULL
      AND h.risk_eliminated_on IS NULL
      AND (h.identified_on IS NULL OR h.identified_on <= substr(warnings.opened_at, 1, 10))
);
CREATE INDEX warnings_kind ON warnings (division_code, kind, status);
