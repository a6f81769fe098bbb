import SQLKit
import StratusCore
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
        let (users, domains, projects, roles, assignments) = (UserStore(), DomainStore(), ProjectStore(), RoleStore(), AssignmentStore())
        if PasswordRules.check(password, maxPasswordLength: .max, strict: false) == .containsNUL {
            throw invalid("password", "the password contains a NUL character")
        }
        let existing = try await db.read { sql in try await users.find(name: self.username, domainID: "default", in: sql) }
        // As keystone: an existing user's password is reset (and its tokens revoked) only when the
        // given one does not already log in, so re-running bootstrap keeps the admin's tokens.
        var reset = existing == nil || resetPassword
        if reset, let stored = existing?.passwordHash, try await hasher.verify(password, hash: stored) { reset = false }
        let hash: String? = reset ? try await hasher.hash(password) : nil
        let now = Clock.micros()
        let me = self
        return try await db.write { sql in
            var log: [String] = []
            if try await !domains.exists("default", in: sql) {
                try await domains.create(
                    DomainRecord(id: "default", name: "Default", description: "The default domain", enabled: true, extra: [:]),
                    in: sql
                )
                log.append("Created domain default")
            }
            var projectID = try await projects.find(name: me.projectName, domainID: "default", in: sql)?.id
            if projectID == nil {
                let project = ProjectRecord(
                    id: newID(),
                    name: me.projectName,
                    domainID: "default",
                    parentID: "default",
                    description: "Bootstrap project for initializing the cloud.",
                    enabled: true,
                    extra: [:]
                )
                projectID = try await projects.create(project, in: sql).id
                log.append("Created project \(me.projectName)")
            }
            var userID = try await users.find(name: me.username, domainID: "default", in: sql)?.id
            if let userID, let hash {
                let current = try await users.get(userID, in: sql)
                try await users.setPassword(userID, hash: hash, expiresAt: current.passwordExpiresAt, in: sql)
                _ = try await users.update(userID, UserChanges(enabled: true), in: sql)
                // As keystone: a new password revokes the user's tokens (every process sees the
                // event; nothing is pruned here, the server prunes with its own token lifetime).
                try await RevocationStore().record(.init(userID: userID), at: now, pruningBefore: 0, in: sql)
                log.append("Reset password of user \(me.username)")
            } else if userID == nil {
                let user = UserRecord(
                    id: newID(),
                    name: me.username,
                    domainID: "default",
                    enabled: true,
                    defaultProjectID: nil,
                    passwordHash: hash,
                    passwordExpiresAt: nil,
                    createdAt: now
                )
                try await users.create(user, in: sql)
                userID = user.id
                log.append("Created user \(me.username)")
            }
            var roleIDs: [String: String] = [:]
            for name in Set(["reader", "member", "manager", "service", me.roleName]).sorted() {
                if let role = try await roles.find(name: name, domainID: nil, in: sql) {
                    roleIDs[name] = role.id
                } else {
                    roleIDs[name] = try await roles.create(RoleRecord(id: newID(), name: name), in: sql).id
                    log.append("Created role \(name)")
                }
            }
            for (prior, implied) in [(me.roleName, "manager"), ("manager", "member"), ("member", "reader")] where prior != implied {
                let rule = RoleImplication(prior: roleIDs[prior]!, implied: roleIDs[implied]!)
                if try await !roles.exists(rule, in: sql) {
                    try await roles.add(rule, in: sql)
                    log.append("Created implied role \(prior) => \(implied)")
                }
            }
            for target in [RoleGrant.Target.project(projectID!), .system] {
                let grant = RoleGrant(actor: .user(userID!), target: target, roleID: roleIDs[me.roleName]!)
                if try await !assignments.exists(grant, in: sql) {
                    try await assignments.add(grant, in: sql)
                    log.append("Granted \(me.roleName) on \(target == .system ? "system" : me.projectName) to \(me.username)")
                }
            }
            let catalog = CatalogStore()
            if let region = me.regionID, try await !catalog.regionExists(region, in: sql) {
                try await catalog.create(RegionRecord(id: region, description: "", parentRegionID: nil), in: sql)
                log.append("Created region \(region)")
            }
            let urls = [("public", me.publicURL), ("internal", me.internalURL), ("admin", me.adminURL)].compactMap { i, u in u.map { (i, $0) } }
            if !urls.isEmpty {
                var serviceID = try await catalog.services(type: "identity", in: sql).first?.id
                if serviceID == nil {
                    let service = ServiceRecord(id: newID(), type: "identity", enabled: true, extra: ["name": .string(me.serviceName)])
                    serviceID = try await catalog.create(service, in: sql).id
                    log.append("Created service \(me.serviceName)")
                }
                for (interface, url) in urls {
                    let existing = try await catalog.endpoints(interface: interface, serviceID: serviceID!, in: sql).first {
                        $0.regionID == me.regionID
                    }
                    if let existing {
                        if existing.url != url {
                            _ = try await catalog.updateEndpoint(existing.id, url: url, in: sql)
                            log.append("Updated \(interface) endpoint to \(url)")
                        }
                    } else {
                        let endpoint = EndpointRecord(
                            id: newID(),
                            serviceID: serviceID!,
                            interface: interface,
                            regionID: me.regionID,
                            url: url,
                            enabled: true
                        )
                        try await catalog.create(endpoint, in: sql)
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
        defer { generation.add(1, ordering: .relaxed) }  // this process's cached validations see the reset at once
        return try await b.run(db: db, hasher: hasher)
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
