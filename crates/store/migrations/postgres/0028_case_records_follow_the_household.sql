-- Issue 18 (a defect): a household registered again in another county takes its file along
-- (zhenxing_store::household_file), its cases' steps and attachments included. They stay never
-- edited; the one change allowed is the county they are filed under, everything else as it was.
CREATE OR REPLACE FUNCTION case_records_never_edited() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND to_jsonb(NEW) - 'county_code' = to_jsonb(OLD) - 'county_code' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'case steps and attachments are never edited: record a correction';
END;
$$ LANGUAGE plpgsql;
