-- Issue 15: a blind index keeps the first 128 bits of its HMAC (32 hexadecimal digits, the
-- first half of what was stored), halving what the unique index on members' ID numbers costs
-- to store and to build (zhenxing_crypto::BLIND_INDEX_BYTES). The hexadecimal of a MAC's first
-- 16 bytes is the first 32 digits of its hexadecimal, so no key is needed here.
UPDATE members SET id_number_index = substr(id_number_index, 1, 32)
WHERE length(id_number_index) = 64;
UPDATE department_records SET natural_key = substr(natural_key, 1, 32)
WHERE length(natural_key) = 64;
