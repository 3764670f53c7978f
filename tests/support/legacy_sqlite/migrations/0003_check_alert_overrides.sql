-- NyxMon schema 3: a check's own alert-policy overrides (JSON of Check.alert; the defaults
-- from the config apply to every key it leaves out).
ALTER TABLE checks ADD COLUMN alert TEXT NOT NULL DEFAULT '{}';
