-- Issue 18 (a defect): a household registered again in another county takes its file along
-- (zhenxing_store::household_file), its cases' steps and attachments included. They stay never
-- edited; the one change allowed is the county they are filed under, everything else as it was.
DROP TRIGGER case_steps_no_update;
CREATE TRIGGER case_steps_no_update BEFORE UPDATE ON case_steps
WHEN NEW.id IS NOT OLD.id OR NEW.case_id IS NOT OLD.case_id OR NEW.number IS NOT OLD.number
    OR NEW.step IS NOT OLD.step OR NEW.stage_before IS NOT OLD.stage_before
    OR NEW.stage_after IS NOT OLD.stage_after OR NEW.happened_on IS NOT OLD.happened_on
    OR NEW.actor IS NOT OLD.actor OR NEW.actor_role IS NOT OLD.actor_role
    OR NEW.note IS NOT OLD.note OR NEW.details IS NOT OLD.details
    OR NEW.recorded_at IS NOT OLD.recorded_at OR NEW.audit_seq IS NOT OLD.audit_seq
BEGIN SELECT RAISE(ABORT, 'case steps are never edited: record a correction'); END;
DROP TRIGGER case_attachments_no_update;
CREATE TRIGGER case_attachments_no_update BEFORE UPDATE ON case_attachments
WHEN NEW.id IS NOT OLD.id OR NEW.case_id IS NOT OLD.case_id
    OR NEW.step_number IS NOT OLD.step_number OR NEW.file_name IS NOT OLD.file_name
    OR NEW.content_type IS NOT OLD.content_type OR NEW.size_bytes IS NOT OLD.size_bytes
    OR NEW.sha256 IS NOT OLD.sha256 OR NEW.content IS NOT OLD.content
    OR NEW.uploaded_by IS NOT OLD.uploaded_by OR NEW.uploaded_at IS NOT OLD.uploaded_at
    OR NEW.audit_seq IS NOT OLD.audit_seq
BEGIN SELECT RAISE(ABORT, 'attachments are never edited'); END;
