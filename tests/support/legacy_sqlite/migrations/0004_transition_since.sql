-- NyxMon schema 4: when the new state of a transition began by the alert machine's account
-- (for "down", the first failing run of the outage), so incidents start and end where the
-- notices say they do. NULL in rows written before: readers fall back to "at".
ALTER TABLE state_changes ADD COLUMN since REAL;
