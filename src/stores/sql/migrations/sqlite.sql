-- jwt-sessions schema v2 for sqlite, tables prefixed "jwt_".
-- Generated from src/stores/sql/sqlite.ts (the store's migrate() runs the same statements); idempotent.

CREATE TABLE IF NOT EXISTS jwt_sessions (
  id TEXT NOT NULL PRIMARY KEY,
  namespace TEXT,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  access_revoked INTEGER NOT NULL,
  data TEXT NOT NULL
) STRICT;

CREATE INDEX IF NOT EXISTS jwt_sessions_namespace ON jwt_sessions (namespace, expires_at);

CREATE INDEX IF NOT EXISTS jwt_sessions_expires ON jwt_sessions (expires_at);

CREATE TABLE IF NOT EXISTS jwt_dpop_proofs (
  id TEXT NOT NULL PRIMARY KEY,
  expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX IF NOT EXISTS jwt_dpop_proofs_expires ON jwt_dpop_proofs (expires_at);

CREATE TABLE IF NOT EXISTS jwt_schema_version (version INTEGER NOT NULL PRIMARY KEY) STRICT;

INSERT OR IGNORE INTO jwt_schema_version (version) VALUES (2);
