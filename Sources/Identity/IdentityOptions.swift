import StratusAuth
import StratusCore
import StratusStorage

/// keystone.conf options Stratus understands (names, groups and defaults as keystone's).
public enum IdentityOptions {
    public static let all: [ConfigOption] =
        CommonOptions.all + OsloPolicyOptions.all
        + DatabaseOptions.options(
            defaultConnection: "sqlite:////var/lib/keystone/keystone.db",
            help: "The SQLAlchemy-style URL of the identity database (sqlite:///… or postgresql://…)."
        ) + [
            .choice("token", "provider", ["fernet"], default: "fernet", "Token provider; only fernet exists."),
            .int("token", "expiration", default: 3600, min: 1, max: 315_360_000, "Seconds a token stays valid."),
            .bool("token", "revoke_by_id", default: true, "Accepted for compatibility."),
            .bool("token", "cache_on_issue", default: true, "Accepted for compatibility."),
            .string("fernet_tokens", "key_repository", default: "/etc/keystone/fernet-keys/", "Directory of the Fernet token keys."),
            .int("fernet_tokens", "max_active_keys", default: 3, min: 1, "Keys kept by fernet_rotate (staged + primary + secondaries)."),
            .string("credential", "key_repository", default: "/etc/keystone/credential-keys/", "Directory of the credential encryption keys."),
            .choice("credential", "provider", ["fernet"], default: "fernet", "Credential encryption provider."),
            .int("credential", "auth_ttl", default: 15, min: 1, "Minutes an EC2 or S3 request's timestamp is accepted for."),
            .choice("identity", "password_hash_algorithm", ["bcrypt"], default: "bcrypt", "Password hash; bcrypt is the one supported."),
            .int("identity", "password_hash_rounds", default: 12, min: 4, max: 31, "bcrypt cost factor."),
            .int("identity", "max_password_length", default: 4096, min: 1, max: 4096, "Longest password accepted."),
            .bool(
                "DEFAULT",
                "strict_password_check",
                default: false,
                "Refuse (403) a password longer than bcrypt reads (72 bytes) instead of using it truncated."
            ),
            .string("identity", "default_domain_id", default: "default", "The domain used when a request names none."),
            .string("identity", "driver", default: "sql", "Accepted for compatibility; the SQL driver is used."),
            .int("security_compliance", "lockout_failure_attempts", default: nil, min: 1, "Failed logins before an account locks."),
            .int("security_compliance", "lockout_duration", default: 1800, min: 1, max: 315_360_000, "Seconds an account stays locked."),
            .int("security_compliance", "password_expires_days", default: nil, min: 0, max: 36_500, "Days a new password stays valid."),
            .bool("security_compliance", "change_password_upon_first_use", default: false, "Accepted; not enforced yet."),
            .int("security_compliance", "unique_last_password_count", default: 0, min: 0, "Accepted; not enforced yet."),
            .bool("cache", "enabled", default: false, "With true, validated tokens are cached for expiration_time."),
            .string("cache", "backend", default: "dogpile.cache.null", "Accepted; caching is in process."),
            .int("cache", "expiration_time", default: 600, min: 1, max: 86_400, "Seconds a cached validation is reused."),
            .list("cache", "memcache_servers", default: "localhost:11211", "Accepted; caching is in process."),
            .string("assignment", "driver", default: "sql", "Accepted for compatibility."),
            .int("DEFAULT", "list_limit", default: nil, min: 1, "Most entities a list returns (with truncated: true past it); unbounded when unset."),
            .int("identity", "list_limit", default: nil, min: 1, "list_limit for users and groups."),
            .int("resource", "list_limit", default: nil, min: 1, "list_limit for projects and domains."),
            .int("role", "list_limit", default: nil, min: 1, "list_limit for roles."),
            .int(
                "assignment",
                "list_limit",
                default: 10_000,
                min: 1,
                "Most role assignments /v3/role_assignments returns (Stratus's bound; keystone has none)."
            ),
            .string("resource", "driver", default: "sql", "Accepted for compatibility."),
            .string("catalog", "driver", default: "sql", "Accepted for compatibility."),
            .int("trust", "max_redelegation_count", default: 3, min: 0, "Longest chain of redelegated trusts."),
            .bool("trust", "allow_redelegation", default: false, "Accepted; as in keystone 30 each trust's allow_redelegation decides."),
            .string("trust", "driver", default: "sql", "Accepted for compatibility."),
        ]
}
