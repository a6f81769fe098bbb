import StratusStorage

/// The glance schema. Forward-only; a new version is a new entry, never an edit.
///
/// Timestamps are seconds since the epoch (glance shows them to the second). A deleted image
/// leaves only its id in `deleted_images` (never reused); glance v2 answers 404 for it as for an
/// image that never existed. Booleans are
/// stored as 0/1 so the same SQL runs on SQLite and PostgreSQL.
///
/// `upload_leases` is what makes several API processes safe behind one database: a process
/// writing an image's data (upload, stage or import) holds the image's lease and refreshes
/// `heartbeat`; a lease whose heartbeat is older than the expiry belongs to a dead process,
/// and any process may then return the image to `queued` and remove the files the lease names.
enum ImageMigrations {
    static let all: [Migration] = [
        Migration(
            1,
            "initial glance schema",
            [
                """
                CREATE TABLE images (id VARCHAR(36) PRIMARY KEY, name VARCHAR(255), status VARCHAR(30) NOT NULL,
                  visibility VARCHAR(20) NOT NULL, size BIGINT, virtual_size BIGINT, checksum VARCHAR(32),
                  os_hash_algo VARCHAR(64), os_hash_value VARCHAR(128), disk_format VARCHAR(20), container_format VARCHAR(20),
                  min_disk BIGINT NOT NULL, min_ram BIGINT NOT NULL, protected INTEGER NOT NULL, os_hidden INTEGER NOT NULL,
                  owner VARCHAR(255), location TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
                """,
                "CREATE INDEX images_owner ON images (owner)",
                "CREATE INDEX images_visibility ON images (visibility)",
                "CREATE INDEX images_created ON images (created_at, id)",
                """
                CREATE TABLE image_properties (image_id VARCHAR(36) NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                  name VARCHAR(255) NOT NULL, value TEXT NOT NULL, PRIMARY KEY (image_id, name))
                """,
                "CREATE INDEX image_properties_name ON image_properties (name, value)",
                """
                CREATE TABLE image_tags (image_id VARCHAR(36) NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                  value VARCHAR(255) NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (image_id, value))
                """,
                "CREATE INDEX image_tags_value ON image_tags (value)",
                """
                CREATE TABLE image_members (image_id VARCHAR(36) NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                  member VARCHAR(255) NOT NULL, status VARCHAR(20) NOT NULL, created_at BIGINT NOT NULL,
                  updated_at BIGINT NOT NULL, PRIMARY KEY (image_id, member))
                """,
                "CREATE INDEX image_members_member ON image_members (member, status)",
                """
                CREATE TABLE tasks (id VARCHAR(36) PRIMARY KEY, type VARCHAR(30) NOT NULL, status VARCHAR(30) NOT NULL,
                  owner VARCHAR(255) NOT NULL, input TEXT NOT NULL, result TEXT, message TEXT NOT NULL,
                  image_id VARCHAR(36), request_id VARCHAR(255), user_id VARCHAR(255),
                  expires_at BIGINT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
                """,
                "CREATE INDEX tasks_image ON tasks (image_id)",
                """
                CREATE TABLE upload_leases (image_id VARCHAR(36) PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
                  process VARCHAR(80) NOT NULL, kind VARCHAR(20) NOT NULL, paths TEXT NOT NULL, heartbeat BIGINT NOT NULL)
                """,
                "CREATE INDEX upload_leases_heartbeat ON upload_leases (heartbeat)",
                "CREATE TABLE deleted_images (id VARCHAR(36) PRIMARY KEY, deleted_at BIGINT NOT NULL)",
            ]
        )
    ]

    static let migrator = Migrator(service: "glance", all)
}
