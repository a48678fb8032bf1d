-- jwt-sessions schema v2 for mysql, tables prefixed "jwt_".
-- Generated from src/stores/sql/mysql.ts (the store's migrate() runs the same statements); idempotent.

CREATE TABLE IF NOT EXISTS jwt_sessions (
  id VARBINARY(512) NOT NULL,
  namespace VARBINARY(1024) NULL,
  version BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  access_revoked BOOLEAN NOT NULL,
  data MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  PRIMARY KEY (id),
  KEY jwt_sessions_namespace (namespace, expires_at),
  KEY jwt_sessions_expires (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS jwt_dpop_proofs (
  id VARBINARY(128) NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (id),
  KEY jwt_dpop_proofs_expires (expires_at)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS jwt_schema_version (version INT NOT NULL PRIMARY KEY) ENGINE = InnoDB;

INSERT INTO jwt_schema_version (version) VALUES (2) ON DUPLICATE KEY UPDATE version = version;
