import SQLKit
import StratusStorage

/// `keystone-manage bootstrap`: what keystone 30's bootstrap creates, idempotently — the
/// Default domain, the admin project and user, the roles service, reader, member, manager,
/// admin with admin ⇒ manager ⇒ member ⇒ reader implied, the admin's project and system
/// grants, the region, and the identity service with its endpoints. Re-running resets the
/// admin password to the one given (keystone's documented recovery path).
public struct IdentityBootstrap: Sendable {
    public var password: String
    public var username = "admin"
    public var projectName = "admin"
    public var roleName = "admin"
    public var serviceName = "keystone"
    public var regionID: String?
    public var adminURL: String?
    public var internalURL: String?
    public var publicURL: String?
    /// Set the password of an existing admin user (keystone-manage always does; all-in-one only when it changed).
    public var resetPassword = true

    public init(password: String) { self.password = password }

    /// Returns lines describing what was created.
    @discardableResult
    public func run(db: Database, hasher: PasswordHasher) async throws -> [String] {
        let existing = try await db.read { sql in
            try await sql.raw("SELECT id FROM identity_user WHERE name = \(bind: self.username) AND domain_id = 'default'").first()
        }
        let hash: String? = existing == nil || resetPassword ? try await hasher.hash(password) : nil
        let now = Clock.micros()
        let me = self
        return try await db.write { sql in
            var log: [String] = []
            func one(_ q: SQLQueryString) async throws -> (any SQLRow)? { try await sql.raw(q).first() }
            if try await one("SELECT id FROM domain WHERE id = 'default'") == nil {
                try await sql.raw("INSERT INTO domain (id, name, description, enabled) VALUES ('default', 'Default', 'The default domain', \(bind: true))").run()
                log.append("Created domain default")
            }
            var projectID = try await one("SELECT id FROM project WHERE name = \(bind: me.projectName) AND domain_id = 'default'")?.str("id")
            if projectID == nil {
                let id = newID()
                try await sql.raw("INSERT INTO project (id, name, domain_id, parent_id, description, enabled) VALUES (\(bind: id), \(bind: me.projectName), 'default', 'default', 'Bootstrap project for initializing the cloud.', \(bind: true))").run()
                projectID = id
                log.append("Created project \(me.projectName)")
            }
            var userID = try await one("SELECT id FROM identity_user WHERE name = \(bind: me.username) AND domain_id = 'default'")?.str("id")
            if let userID, let hash {
                try await sql.raw("UPDATE identity_user SET password_hash = \(bind: hash), enabled = \(bind: true), failed_auth_count = 0 WHERE id = \(bind: userID)").run()
                log.append("Reset password of user \(me.username)")
            } else if userID == nil {
                let id = newID()
                try await sql.raw("INSERT INTO identity_user (id, name, domain_id, enabled, password_hash, created_at, default_project_id) VALUES (\(bind: id), \(bind: me.username), 'default', \(bind: true), \(bind: hash), \(bind: now), NULL)").run()
                userID = id
                log.append("Created user \(me.username)")
            }
            var roleIDs: [String: String] = [:]
            for name in Set(["reader", "member", "manager", "service", me.roleName]).sorted() {
                if let id = try await one("SELECT id FROM role WHERE name = \(bind: name) AND domain_id = '<<null>>'")?.str("id") {
                    roleIDs[name] = id
                } else {
                    let id = newID()
                    try await sql.raw("INSERT INTO role (id, name, domain_id) VALUES (\(bind: id), \(bind: name), '<<null>>')").run()
                    roleIDs[name] = id
                    log.append("Created role \(name)")
                }
            }
            for (prior, implied) in [(me.roleName, "manager"), ("manager", "member"), ("member", "reader")] where prior != implied {
                let p = roleIDs[prior]!, i = roleIDs[implied]!
                if try await one("SELECT prior_role_id FROM implied_role WHERE prior_role_id = \(bind: p) AND implied_role_id = \(bind: i)") == nil {
                    try await sql.raw("INSERT INTO implied_role (prior_role_id, implied_role_id) VALUES (\(bind: p), \(bind: i))").run()
                    log.append("Created implied role \(prior) => \(implied)")
                }
            }
            let adminRole = roleIDs[me.roleName]!
            for (type, target) in [("UserProject", projectID!), ("UserSystem", "system")] {
                if try await one("SELECT role_id FROM assignment WHERE type = \(bind: type) AND actor_id = \(bind: userID!) AND target_id = \(bind: target) AND role_id = \(bind: adminRole)") == nil {
                    try await sql.raw("INSERT INTO assignment (type, actor_id, target_id, role_id, inherited) VALUES (\(bind: type), \(bind: userID!), \(bind: target), \(bind: adminRole), \(bind: false))").run()
                    log.append("Granted \(me.roleName) on \(type == "UserSystem" ? "system" : me.projectName) to \(me.username)")
                }
            }
            if let region = me.regionID, try await one("SELECT id FROM region WHERE id = \(bind: region)") == nil {
                try await sql.raw("INSERT INTO region (id, description) VALUES (\(bind: region), '')").run()
                log.append("Created region \(region)")
            }
            let urls = [("public", me.publicURL), ("internal", me.internalURL), ("admin", me.adminURL)].compactMap { i, u in u.map { (i, $0) } }
            if !urls.isEmpty {
                var serviceID = try await one("SELECT id FROM service WHERE type = 'identity'")?.str("id")
                if serviceID == nil {
                    let id = newID()
                    try await sql.raw("INSERT INTO service (id, type, enabled, extra) VALUES (\(bind: id), 'identity', \(bind: true), \(bind: "{\"name\": \"\(me.serviceName)\"}"))").run()
                    serviceID = id
                    log.append("Created service \(me.serviceName)")
                }
                for (interface, url) in urls {
                    if let existing = try await one("SELECT id, url FROM endpoint WHERE service_id = \(bind: serviceID!) AND interface = \(bind: interface) AND (region_id = \(bind: me.regionID) OR (region_id IS NULL AND \(bind: me.regionID == nil)))") {
                        if existing.str("url") != url {
                            try await sql.raw("UPDATE endpoint SET url = \(bind: url) WHERE id = \(bind: existing.str("id"))").run()
                            log.append("Updated \(interface) endpoint to \(url)")
                        }
                    } else {
                        try await sql.raw("INSERT INTO endpoint (id, service_id, interface, region_id, url, enabled) VALUES (\(bind: newID()), \(bind: serviceID!), \(bind: interface), \(bind: me.regionID), \(bind: url), \(bind: true))").run()
                        log.append("Created \(interface) endpoint \(url)")
                    }
                }
            }
            return log
        }
    }
}

extension IdentityService {
    /// Runs `keystone-manage bootstrap` against this service's database with its own hasher.
    @discardableResult
    public func bootstrap(_ b: IdentityBootstrap) async throws -> [String] {
        try await b.run(db: db, hasher: hasher)
    }

    /// The schema version of the database and the newest this code knows (`db_sync --check`).
    public static func schemaVersion(_ db: Database) async throws -> (current: Int, latest: Int) {
        (try await IdentityMigrations.migrator.currentVersion(db), IdentityMigrations.migrator.latest)
    }

    /// Applies the identity schema migrations (`keystone-manage db_sync`).
    public static func migrate(_ db: Database) async throws -> (from: Int, to: Int) {
        let from = try await IdentityMigrations.migrator.currentVersion(db)
        try await IdentityMigrations.migrator.migrate(db)
        return (from, IdentityMigrations.migrator.latest)
    }
}
