-- Issue 17 (item 7): 村民小组 (village group) as a column of the national system's exchange
-- format, stored on the household. NULL: not recorded (households from before this column);
-- the village notice then reads a numbered group from the end of the address.
ALTER TABLE households ADD COLUMN village_group TEXT;
