import StratusStorage

/// The placement schema. Forward-only; a new version is a new entry, never an edit.
///
/// Rows are keyed by what the API names them by (provider and consumer uuids, class and trait
/// names), so the same SQL runs on SQLite and PostgreSQL without sequences. Timestamps are
/// seconds since the epoch. `placement_state.seq` is bumped by every write that changes what
/// allocation candidates see, and each changed provider records it in `change_seq`, so a
/// process's in-memory view (`ProviderView`) reloads only what changed; `structure` is bumped
/// when providers disappear (a full reload), `names` when resource classes or traits are
/// created, renamed or deleted (the names a query may use are cached beside the providers).
enum PlacementMigrations {
    static let all: [Migration] = [
        Migration(
            1,
            "initial placement schema",
            [
                "CREATE TABLE placement_state (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, structure BIGINT NOT NULL)",
                "INSERT INTO placement_state (id, seq, structure) VALUES (1, 0, 0)",
                """
                CREATE TABLE resource_classes (name VARCHAR(255) PRIMARY KEY, id INTEGER NOT NULL UNIQUE,
                  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
                """,
                "CREATE TABLE traits (name VARCHAR(255) PRIMARY KEY, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
                """
                CREATE TABLE resource_providers (uuid VARCHAR(36) PRIMARY KEY, name VARCHAR(200) NOT NULL UNIQUE,
                  generation BIGINT NOT NULL, parent_uuid VARCHAR(36) REFERENCES resource_providers(uuid),
                  root_uuid VARCHAR(36) NOT NULL, change_seq BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
                """,
                "CREATE INDEX resource_providers_root ON resource_providers (root_uuid)",
                "CREATE INDEX resource_providers_parent ON resource_providers (parent_uuid)",
                "CREATE INDEX resource_providers_seq ON resource_providers (change_seq)",
                """
                CREATE TABLE inventories (provider_uuid VARCHAR(36) NOT NULL REFERENCES resource_providers(uuid) ON DELETE CASCADE,
                  resource_class VARCHAR(255) NOT NULL REFERENCES resource_classes(name) ON UPDATE CASCADE,
                  total BIGINT NOT NULL, reserved BIGINT NOT NULL, min_unit BIGINT NOT NULL, max_unit BIGINT NOT NULL,
                  step_size BIGINT NOT NULL, allocation_ratio DOUBLE PRECISION NOT NULL,
                  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (provider_uuid, resource_class))
                """,
                "CREATE INDEX inventories_class ON inventories (resource_class)",
                """
                CREATE TABLE provider_traits (provider_uuid VARCHAR(36) NOT NULL REFERENCES resource_providers(uuid) ON DELETE CASCADE,
                  trait VARCHAR(255) NOT NULL REFERENCES traits(name), PRIMARY KEY (provider_uuid, trait))
                """,
                "CREATE INDEX provider_traits_trait ON provider_traits (trait)",
                """
                CREATE TABLE provider_aggregates (provider_uuid VARCHAR(36) NOT NULL REFERENCES resource_providers(uuid) ON DELETE CASCADE,
                  aggregate_uuid VARCHAR(36) NOT NULL, PRIMARY KEY (provider_uuid, aggregate_uuid))
                """,
                "CREATE INDEX provider_aggregates_aggregate ON provider_aggregates (aggregate_uuid)",
                """
                CREATE TABLE consumers (uuid VARCHAR(36) PRIMARY KEY, project_id VARCHAR(255) NOT NULL, user_id VARCHAR(255) NOT NULL,
                  generation BIGINT NOT NULL, consumer_type VARCHAR(255), created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
                """,
                "CREATE INDEX consumers_project_user ON consumers (project_id, user_id)",
                """
                CREATE TABLE allocations (consumer_uuid VARCHAR(36) NOT NULL REFERENCES consumers(uuid),
                  provider_uuid VARCHAR(36) NOT NULL REFERENCES resource_providers(uuid),
                  resource_class VARCHAR(255) NOT NULL REFERENCES resource_classes(name) ON UPDATE CASCADE,
                  used BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
                  PRIMARY KEY (consumer_uuid, provider_uuid, resource_class))
                """,
                "CREATE INDEX allocations_provider ON allocations (provider_uuid, resource_class)",
            ]
        ),
        Migration(
            2,
            "a counter of resource class and trait changes, so processes cache the names",
            ["ALTER TABLE placement_state ADD COLUMN names BIGINT NOT NULL DEFAULT 0"]
        ),
    ]

    static let migrator = Migrator(service: "placement", all)
}
