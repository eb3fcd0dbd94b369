-- Household lists are ordered by division code then id and paginated by that key, so that a
-- page of a wide scope (a county, the municipality) walks this index from its start and stops
-- after one page, instead of sorting every household in the scope.
CREATE INDEX households_browse ON households (division_code, id);
