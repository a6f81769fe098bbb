import StratusStorage

/// The identity schema. Forward-only; a new version is a new entry, never an edit.
///
/// Timestamps are microseconds since the epoch (BIGINT) so revocation events compare exactly
/// with token issue times. Free-form attributes keystone keeps in `extra` are a JSON text.
/// Global roles store `domain_id = '<<null>>'` so the (domain_id, name) unique key holds on both
/// databases (NULLs are never equal in a unique index), as keystone does.
enum IdentityMigrations {
    static let all: [Migration] = [
        Migration(
            1,
            "initial identity schema",
            [
                """
                CREATE TABLE domain (id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL UNIQUE, description TEXT,
                  enabled BOOLEAN NOT NULL, extra TEXT NOT NULL DEFAULT '{}')
                """,
                """
                CREATE TABLE project (id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL, domain_id VARCHAR(64) NOT NULL REFERENCES domain(id),
                  parent_id VARCHAR(64), description TEXT, enabled BOOLEAN NOT NULL, extra TEXT NOT NULL DEFAULT '{}',
                  UNIQUE (domain_id, name))
                """,
                "CREATE TABLE project_tag (project_id VARCHAR(64) NOT NULL REFERENCES project(id) ON DELETE CASCADE, name VARCHAR(255) NOT NULL, PRIMARY KEY (project_id, name))",
                """
                CREATE TABLE identity_user (id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL, domain_id VARCHAR(64) NOT NULL REFERENCES domain(id),
                  enabled BOOLEAN NOT NULL, default_project_id VARCHAR(64), password_hash TEXT, password_expires_at BIGINT,
                  failed_auth_count BIGINT NOT NULL DEFAULT 0, last_failed_auth_at BIGINT, created_at BIGINT NOT NULL,
                  extra TEXT NOT NULL DEFAULT '{}', options TEXT NOT NULL DEFAULT '{}', UNIQUE (domain_id, name))
                """,
                """
                CREATE TABLE identity_group (id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL, domain_id VARCHAR(64) NOT NULL REFERENCES domain(id),
                  description TEXT, extra TEXT NOT NULL DEFAULT '{}', UNIQUE (domain_id, name))
                """,
                """
                CREATE TABLE group_membership (user_id VARCHAR(64) NOT NULL REFERENCES identity_user(id) ON DELETE CASCADE,
                  group_id VARCHAR(64) NOT NULL REFERENCES identity_group(id) ON DELETE CASCADE, PRIMARY KEY (user_id, group_id))
                """,
                """
                CREATE TABLE role (id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL, domain_id VARCHAR(64) NOT NULL,
                  description TEXT, options TEXT NOT NULL DEFAULT '{}', extra TEXT NOT NULL DEFAULT '{}', UNIQUE (domain_id, name))
                """,
                """
                CREATE TABLE implied_role (prior_role_id VARCHAR(64) NOT NULL REFERENCES role(id) ON DELETE CASCADE,
                  implied_role_id VARCHAR(64) NOT NULL REFERENCES role(id) ON DELETE CASCADE, PRIMARY KEY (prior_role_id, implied_role_id))
                """,
                """
                CREATE TABLE assignment (type VARCHAR(16) NOT NULL, actor_id VARCHAR(64) NOT NULL, target_id VARCHAR(64) NOT NULL,
                  role_id VARCHAR(64) NOT NULL REFERENCES role(id) ON DELETE CASCADE, inherited BOOLEAN NOT NULL DEFAULT FALSE,
                  PRIMARY KEY (type, actor_id, target_id, role_id, inherited))
                """,
                "CREATE INDEX assignment_actor ON assignment (actor_id)",
                "CREATE INDEX assignment_target ON assignment (target_id)",
                """
                CREATE TABLE region (id VARCHAR(255) PRIMARY KEY, description TEXT NOT NULL DEFAULT '', parent_region_id VARCHAR(255),
                  extra TEXT NOT NULL DEFAULT '{}')
                """,
                """
                CREATE TABLE service (id VARCHAR(64) PRIMARY KEY, type VARCHAR(255) NOT NULL, enabled BOOLEAN NOT NULL,
                  extra TEXT NOT NULL DEFAULT '{}')
                """,
                """
                CREATE TABLE endpoint (id VARCHAR(64) PRIMARY KEY, service_id VARCHAR(64) NOT NULL REFERENCES service(id) ON DELETE CASCADE,
                  interface VARCHAR(8) NOT NULL, region_id VARCHAR(255) REFERENCES region(id), url TEXT NOT NULL, enabled BOOLEAN NOT NULL,
                  extra TEXT NOT NULL DEFAULT '{}')
                """,
                """
                CREATE TABLE application_credential (id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL, secret_hash TEXT NOT NULL,
                  description TEXT, user_id VARCHAR(64) NOT NULL REFERENCES identity_user(id) ON DELETE CASCADE, project_id VARCHAR(64),
                  expires_at BIGINT, unrestricted BOOLEAN NOT NULL, created_at BIGINT NOT NULL, UNIQUE (user_id, name))
                """,
                """
                CREATE TABLE application_credential_role (application_credential_id VARCHAR(64) NOT NULL
                  REFERENCES application_credential(id) ON DELETE CASCADE, role_id VARCHAR(64) NOT NULL,
                  PRIMARY KEY (application_credential_id, role_id))
                """,
                """
                CREATE TABLE credential (id VARCHAR(64) PRIMARY KEY, user_id VARCHAR(64) NOT NULL, project_id VARCHAR(64),
                  type VARCHAR(255) NOT NULL, encrypted_blob TEXT NOT NULL, key_hash VARCHAR(64) NOT NULL, extra TEXT NOT NULL DEFAULT '{}')
                """,
                """
                CREATE TABLE revocation_event (id VARCHAR(64) PRIMARY KEY, user_id VARCHAR(64), project_id VARCHAR(64), domain_id VARCHAR(64),
                  audit_id VARCHAR(64), issued_before BIGINT NOT NULL, revoked_at BIGINT NOT NULL, expires_at BIGINT)
                """,
                "CREATE INDEX revocation_user ON revocation_event (user_id)",
                "CREATE INDEX revocation_audit ON revocation_event (audit_id)",
                "CREATE INDEX revocation_project ON revocation_event (project_id)",
            ]
        ),
        // A counter bumped in every revocation's transaction: other processes compare it to
        // know their cached validations are stale (MAX(revoked_at) missed an event committed
        // out of timestamp order).
        Migration(
            2,
            "revocation counter",
            [
                "CREATE TABLE revocation_counter (id INTEGER PRIMARY KEY, value BIGINT NOT NULL)",
                "INSERT INTO revocation_counter (id, value) VALUES (1, 0)",
            ]
        ),
        // OS-TRUST: trusts (soft-deleted, as keystone keeps them for audit), the roles they
        // delegate, and revocation events naming a trust.
        Migration(
            3,
            "trusts",
            [
                """
                CREATE TABLE trust (id VARCHAR(64) PRIMARY KEY, trustor_user_id VARCHAR(64) NOT NULL, trustee_user_id VARCHAR(64) NOT NULL,
                  project_id VARCHAR(64), impersonation BOOLEAN NOT NULL, deleted_at BIGINT, expires_at BIGINT, remaining_uses INTEGER,
                  redelegated_trust_id VARCHAR(64), redelegation_count INTEGER NOT NULL, extra TEXT NOT NULL DEFAULT '{}')
                """,
                "CREATE INDEX trust_trustor ON trust (trustor_user_id)",
                "CREATE INDEX trust_trustee ON trust (trustee_user_id)",
                """
                CREATE TABLE trust_role (trust_id VARCHAR(64) NOT NULL REFERENCES trust(id) ON DELETE CASCADE,
                  role_id VARCHAR(64) NOT NULL, PRIMARY KEY (trust_id, role_id))
                """,
                "ALTER TABLE revocation_event ADD COLUMN trust_id VARCHAR(64)",
            ]
        ),
        // Application credential access rules: a user's rules, shared by that user's credentials.
        Migration(
            4,
            "access rules",
            [
                """
                CREATE TABLE access_rule (id VARCHAR(64) PRIMARY KEY, user_id VARCHAR(64) NOT NULL, service VARCHAR(64) NOT NULL,
                  path VARCHAR(128) NOT NULL, method VARCHAR(16) NOT NULL, UNIQUE (user_id, service, path, method))
                """,
                """
                CREATE TABLE application_credential_access_rule (application_credential_id VARCHAR(64) NOT NULL
                  REFERENCES application_credential(id) ON DELETE CASCADE, access_rule_id VARCHAR(64) NOT NULL REFERENCES access_rule(id),
                  PRIMARY KEY (application_credential_id, access_rule_id))
                """,
            ]
        ),
    ]

    static let migrator = Migrator(service: "identity", all)
}
