-- Issue 18 (item 5): who an account belongs to. The real name (姓名) and unit (工作单位) are
-- plain text (empty: not recorded, as for accounts made before this column); the phone is
-- sealed like every phone number (crate::keys::ACCOUNTS_PHONE) and shown masked.
ALTER TABLE accounts ADD COLUMN real_name TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN unit TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN phone TEXT;
