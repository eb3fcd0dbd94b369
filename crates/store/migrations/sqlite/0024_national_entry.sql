-- Issue 17 item 4: step 7 of identification, 录入建档 (DOMAIN.md 1.7), and the flag of a risk
-- elimination in the national monitoring system (1.9). A completed case records the day it was
-- entered in the national system, the national record's number when the system gave one, and
-- who recorded it (the step itself is in case_steps like every other). The monthly export of
-- identifications and eliminations for upload lists completed cases by `closed_on`.
ALTER TABLE cases ADD COLUMN national_recorded_on TEXT;
ALTER TABLE cases ADD COLUMN national_record_number TEXT;
ALTER TABLE cases ADD COLUMN national_recorded_by TEXT;
CREATE INDEX cases_completed_on ON cases (stage, closed_on);
