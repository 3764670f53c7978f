-- NyxMon schema 5: API tokens have a scope, "read" (GET and HEAD only) or "admin" (every
-- operation). Tokens made before scopes existed could do everything, so they become "admin":
-- no script that works today stops working.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin' CHECK (scope IN ('read', 'admin'));
