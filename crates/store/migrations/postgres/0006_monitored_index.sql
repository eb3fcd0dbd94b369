-- Lists of monitored households (a few percent of the registry) walk this partial index in
-- list order, (division code, id), with the category in the index, instead of reading every
-- household of the scope to find them.
CREATE INDEX households_monitored ON households (division_code, id, monitoring_category)
    WHERE monitoring_category IS NOT NULL;
