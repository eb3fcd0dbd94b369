-- Warnings of registered households stored in another division (issue 14, defect 1): before
-- this version a self-declaration naming another village than the declarant's registered one
-- stored the lead, with the household's number, in the chosen village (another county's
-- officers saw it, the household's own could not, and on SQLite the household's next warning
-- of that source failed on the unique index). `warnings::raise` now always stores a registered
-- household's warning in the household's own county and village; this moves the rows stored
-- before. Per registered household and source, one active warning is kept, the one in the
-- household's county if any, else the oldest (the one `raise` merges into); any other active
-- one is closed as merged into it, its declarations going to the kept one. Then every warning
-- of a registered household moves to the household's county and village, and every
-- declaration to its warning's. Running it again changes nothing.

-- Declarations behind an active warning that is not its household's kept one.
UPDATE declarations SET warning_id = (
    SELECT k.id FROM warnings w
    JOIN households h ON h.household_no = w.household_no
    JOIN warnings k ON k.household_no = w.household_no AND k.source = w.source
        AND k.status IN ('new', 'assigned')
    WHERE w.id = declarations.warning_id
    ORDER BY CASE WHEN k.county_code = h.county_code THEN 0 ELSE 1 END, k.id LIMIT 1)
WHERE EXISTS (
    SELECT 1 FROM warnings w JOIN households h ON h.household_no = w.household_no
    WHERE w.id = declarations.warning_id AND w.status IN ('new', 'assigned'));

-- Active warnings that are not their household's kept one: closed as merged into it.
UPDATE warnings SET status = 'closed',
    closed_at = to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    updated_at = to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    resolved_by = 'system', row_version = row_version + 1,
    resolution = '已并入本户在户籍所在地的在办预警（数据修复）。Merged into the household''s active warning where it is registered (data repair).'
WHERE status IN ('new', 'assigned') AND id <> (
    SELECT k.id FROM households h
    JOIN warnings k ON k.household_no = h.household_no
    WHERE h.household_no = warnings.household_no AND k.source = warnings.source
        AND k.status IN ('new', 'assigned')
    ORDER BY CASE WHEN k.county_code = h.county_code THEN 0 ELSE 1 END, k.id LIMIT 1);

-- Every warning of a registered household, in the household's county and village.
UPDATE warnings SET
    county_code = (SELECT h.county_code FROM households h
                   WHERE h.household_no = warnings.household_no),
    division_code = (SELECT h.division_code FROM households h
                     WHERE h.household_no = warnings.household_no)
WHERE EXISTS (
    SELECT 1 FROM households h WHERE h.household_no = warnings.household_no
    AND (h.county_code <> warnings.county_code OR h.division_code <> warnings.division_code));

-- Every declaration where its warning is: read by the officers of the warning's village.
UPDATE declarations SET
    county_code = (SELECT w.county_code FROM warnings w WHERE w.id = declarations.warning_id),
    division_code = (SELECT w.division_code FROM warnings w WHERE w.id = declarations.warning_id)
WHERE EXISTS (
    SELECT 1 FROM warnings w WHERE w.id = declarations.warning_id
    AND (w.county_code <> declarations.county_code OR w.division_code <> declarations.division_code));
