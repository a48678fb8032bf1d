-- jwt-sessions schema v2 for postgres, tables prefixed "jwt_".
-- Generated from src/stores/sql/postgres.ts (the store's migrate() runs the same statements); idempotent.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('jwt_sessions'));

CREATE TABLE IF NOT EXISTS jwt_sessions (
  id varchar(128) PRIMARY KEY,
  namespace varchar(256),
  version bigint NOT NULL,
  created_at bigint NOT NULL,
  last_used_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  access_revoked boolean NOT NULL,
  data text NOT NULL
);

CREATE INDEX IF NOT EXISTS jwt_sessions_namespace ON jwt_sessions (namespace, expires_at);

CREATE INDEX IF NOT EXISTS jwt_sessions_expires ON jwt_sessions (expires_at);

CREATE TABLE IF NOT EXISTS jwt_dpop_proofs (
  id varchar(128) PRIMARY KEY,
  expires_at bigint NOT NULL
);

CREATE INDEX IF NOT EXISTS jwt_dpop_proofs_expires ON jwt_dpop_proofs (expires_at);

CREATE TABLE IF NOT EXISTS jwt_schema_version (version integer PRIMARY KEY);

INSERT INTO jwt_schema_version (version) VALUES (2) ON CONFLICT DO NOTHING;

COMMIT;
