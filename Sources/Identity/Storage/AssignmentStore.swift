import SQLKit
import StratusCore
import StratusStorage

/// Role assignments (`assignment`): grants to users and groups on projects, domains and the
/// system, the `/v3/role_assignments` listing, and the effective roles of a user on a scope.
struct AssignmentStore: Sendable {
    /// A grant's key columns as stored: `type` is keystone's `UserProject`, `GroupDomain`, …,
    /// and the system's target id is `system`.
    struct Key: Equatable {
        var type: String
        var actorID: String
        var targetID: String

        init(actor: RoleGrant.Actor, target: RoleGrant.Target) {
            let (who, actorID): (String, String) =
                switch actor {
                case .user(let id): ("User", id)
                case .group(let id): ("Group", id)
                }
            let (what, targetID): (String, String) =
                switch target {
                case .project(let id): ("Project", id)
                case .domain(let id): ("Domain", id)
                case .system: ("System", "system")
                }
            (type, self.actorID, self.targetID) = (who + what, actorID, targetID)
        }
    }

    /// One `assignment` row.
    struct Row: Decodable {
        var type: String
        var actorId: String
        var targetId: String
        var roleId: String
        var inherited: Bool

        /// The grant, or nil for a type this code does not know.
        var grant: RoleGrant? {
            let actor: RoleGrant.Actor
            if type.hasPrefix("User") { actor = .user(actorId) } else if type.hasPrefix("Group") { actor = .group(actorId) } else { return nil }
            let target: RoleGrant.Target
            if type.hasSuffix("Project") {
                target = .project(targetId)
            } else if type.hasSuffix("Domain") {
                target = .domain(targetId)
            } else if type.hasSuffix("System") {
                target = .system
            } else {
                return nil
            }
            return RoleGrant(actor: actor, target: target, roleID: roleId, inherited: inherited)
        }
    }

    static let userTypes = ["UserProject", "UserDomain", "UserSystem"]
    static let groupTypes = ["GroupProject", "GroupDomain", "GroupSystem"]
    static let columns = ["type", "actor_id", "target_id", "role_id", "inherited"]

    /// Whether exactly this grant exists.
    func exists(_ grant: RoleGrant, in sql: any SQLDatabase) async throws -> Bool {
        try await match(sql.select().column("role_id").from("assignment"), grant).first() != nil
    }

    /// Records the grant; granting it again is not an error (a parallel PUT is not a conflict).
    func add(_ grant: RoleGrant, in sql: any SQLDatabase) async throws {
        try await remove(grant, in: sql)
        let key = Key(actor: grant.actor, target: grant.target)
        try await sql.insert(into: "assignment").columns(Self.columns)
            .values(SQLBind(key.type), SQLBind(key.actorID), SQLBind(key.targetID), SQLBind(grant.roleID), SQLBind(grant.inherited))
            .run()
    }

    /// Removes the grant (nothing when it does not exist).
    func remove(_ grant: RoleGrant, in sql: any SQLDatabase) async throws {
        try await match(sql.delete(from: "assignment"), grant).run()
    }

    /// Removes every grant held by `actorID` (a deleted user or group).
    func removeAll(actorID: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "assignment").where("actor_id", .equal, actorID).run()
    }

    /// Removes every grant on `targetID` (a deleted project or domain).
    func removeAll(targetID: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "assignment").where("target_id", .equal, targetID).run()
    }

    private func match<Q: SQLPredicateBuilder>(_ query: Q, _ grant: RoleGrant) -> Q {
        let key = Key(actor: grant.actor, target: grant.target)
        return query.where("type", .equal, key.type).where("actor_id", .equal, key.actorID).where("target_id", .equal, key.targetID)
            .where("role_id", .equal, grant.roleID).where("inherited", .equal, grant.inherited)
    }

    // MARK: Listing

    /// The `/v3/role_assignments` filters; each one given narrows the result (all must hold).
    struct Filter: Sendable {
        var userID: String?
        var groupID: String?
        var roleID: String?
        var projectID: String?
        /// `include_subtree`: the project's descendants count as the project (set with `projectID`).
        var subtreeIDs: [String] = []
        var domainID: String?
        var system = false
        /// `scope.OS-INHERIT:inherited_to=projects`: only inherited grants.
        var inheritedOnly = false
        /// Only grants on this domain or on its projects (a domain-scoped caller's view).
        var withinDomain: String?
        /// At most this many grants are read (the route asks for one past its limit).
        var limit: Int?
    }

    /// The grants (inherited ones too) matching `filter`, in key order.
    func list(_ filter: Filter, in sql: any SQLDatabase) async throws -> [RoleGrant] {
        let query = sql.select().columns(Self.columns).from("assignment")
        if filter.inheritedOnly { query.where("inherited", .equal, true) }
        if let user = filter.userID { query.where("type", .in, Self.userTypes).where("actor_id", .equal, user) }
        if let group = filter.groupID { query.where("type", .in, Self.groupTypes).where("actor_id", .equal, group) }
        if let role = filter.roleID { query.where("role_id", .equal, role) }
        narrowScope(query, filter)
        if let limit = filter.limit { query.limit(limit) }
        return try await Self.grants(query)
    }

    /// keystone's `effective` listing: group grants become their members' grants, and implied
    /// roles are added (see `EffectiveRoles.expand`). The user, role and scope filters are
    /// applied in SQL where they can be (a user's groups, the roles implying the one asked for)
    /// and again on the expanded rows.
    /// `complete` is false when `filter.limit` stopped the read of grants.
    /// As keystone, the effective view holds no system grants, and a domain-specific role shows
    /// only through the global roles it implies.
    func listEffective(_ filter: Filter, in sql: any SQLDatabase) async throws -> (rows: [EffectiveRoles.Assignment], complete: Bool) {
        var readAll = true
        if filter.system || filter.inheritedOnly { return ([], true) }
        let implications = try await RoleStore().implications(in: sql)
        let query = sql.select().columns(Self.columns).from("assignment").where("type", .notIn, ["UserSystem", "GroupSystem"])
        if let user = filter.userID {
            query.where(group: {
                $0
                    .where(group: { $0.where("type", .in, Self.userTypes).where("actor_id", .equal, user) })
                    .orWhere(group: {
                        $0.where("type", .in, Self.groupTypes).where(
                            "actor_id",
                            .in,
                            SQLSubquery.select {
                                $0
                                    .column("group_id").from("group_membership").where("user_id", .equal, user)
                            }
                        )
                    })
            })
        }
        if let role = filter.roleID {
            // The roles that imply `role`, transitively: the implications walked backwards.
            let reversed = implications.map { RoleImplication(prior: $0.implied, implied: $0.prior) }
            query.where("role_id", .in, EffectiveRoles.closure(of: [role], implications: reversed).sorted())
        }
        // On a project: grants made on it (or its subtree), and inherited ones made above it.
        if let project = filter.projectID {
            let lineage = try await lineage(of: project, in: sql)
            let above = (lineage?.parents ?? []) + (lineage.map { [$0.domainID] } ?? [])
            let here = [project] + filter.subtreeIDs
            query.where(group: {
                $0.where(group: { $0.where("target_id", .in, here).where("type", .in, ["UserProject", "GroupProject"]) })
                    .orWhere(group: { $0.where("target_id", .in, above + here).where("inherited", .equal, true) })
            })
        } else if let domain = filter.domainID {
            query.where("type", .in, ["UserDomain", "GroupDomain"]).where("target_id", .equal, domain).where("inherited", .equal, false)
        }
        narrowScope(query, Filter(withinDomain: filter.withinDomain))
        if let limit = filter.limit { query.limit(limit) }
        let grants = try await Self.grants(query)
        if let limit = filter.limit, grants.count >= limit { readAll = false }
        var groups: Set<String> = []
        for grant in grants { if case .group(let id) = grant.actor { groups.insert(id) } }
        var memberships: [GroupMembership] = []
        if !groups.isEmpty {
            let members = sql.select().columns("group_id", "user_id").from("group_membership").where("group_id", .in, groups.sorted())
            if let user = filter.userID { members.where("user_id", .equal, user) }
            memberships = try await members.orderBy("group_id").orderBy("user_id").all().map {
                let row = try $0.decode(MembershipRow.self)
                return GroupMembership(groupID: row.groupId, userID: row.userId)
            }
        }
        var expanded = EffectiveRoles.expand(grants, memberships: memberships, implications: implications)
        if grants.contains(where: \.inherited) {
            expanded = EffectiveRoles.inherit(expanded, projects: try await projectNodes(in: sql))
        }
        if let project = filter.projectID {
            let wanted = Set([project] + filter.subtreeIDs)
            expanded = expanded.filter { if case .project(let id) = $0.grant.target { wanted.contains(id) } else { false } }
        }
        let roleIDs = Set(expanded.map(\.grant.roleID))
        let domainRoles =
            roleIDs.isEmpty
            ? []
            : Set(
                try await sql.select().column("id").from("role").where("id", .in, roleIDs.sorted())
                    .where("domain_id", .notEqual, RoleStore.globalDomain).all().map { try $0.decode(column: "id", as: String.self) }
            )
        let rows = expanded.filter { row in
            if domainRoles.contains(row.grant.roleID) { return false }
            if let user = filter.userID, row.grant.actor != .user(user) { return false }
            if let role = filter.roleID, row.grant.roleID != role { return false }
            return true
        }
        return (rows, readAll)
    }

    /// One `group_membership` row.
    struct MembershipRow: Decodable {
        var groupId: String
        var userId: String
    }

    /// Every project's id, parent and domain (for inherited grants).
    func projectNodes(in sql: any SQLDatabase) async throws -> [EffectiveRoles.ProjectNode] {
        struct Node: Decodable {
            var id: String
            var parentId: String?
            var domainId: String
        }
        return try await sql.select().columns("id", "parent_id", "domain_id").from("project").all().map {
            let n = try $0.decode(Node.self)
            return EffectiveRoles.ProjectNode(id: n.id, parentID: n.parentId, domainID: n.domainId)
        }
    }

    private func narrowScope(_ query: SQLSelectBuilder, _ filter: Filter) {
        if let project = filter.projectID {
            query.where("type", .in, ["UserProject", "GroupProject"]).where("target_id", .in, [project] + filter.subtreeIDs)
        }
        if let domain = filter.domainID { query.where("type", .in, ["UserDomain", "GroupDomain"]).where("target_id", .equal, domain) }
        if filter.system { query.where("type", .in, ["UserSystem", "GroupSystem"]) }
        if let domain = filter.withinDomain {
            query.where(group: {
                $0
                    .where(group: { $0.where("type", .in, ["UserDomain", "GroupDomain"]).where("target_id", .equal, domain) })
                    .orWhere(group: {
                        $0.where("type", .in, ["UserProject", "GroupProject"]).where(
                            "target_id",
                            .in,
                            SQLSubquery.select { $0.column("id").from("project").where("domain_id", .equal, domain) }
                        )
                    })
            })
        }
    }

    private static func grants(_ query: SQLSelectBuilder) async throws -> [RoleGrant] {
        try await query.orderBy("type").orderBy("actor_id").orderBy("target_id").orderBy("role_id").all()
            .compactMap { try $0.decode(Row.self).grant }
    }

    /// Names (and owning domains) for `include_names`: keyed `role:<id>`, `user:<id>`,
    /// `group:<id>`, `project:<id>`, `domain:<id>`; only the ids the rows mention are read.
    func names(for rows: [EffectiveRoles.Assignment], in sql: any SQLDatabase) async throws -> [String: (name: String, domainID: String?)] {
        var ids: [String: Set<String>] = ["role": [], "identity_user": [], "identity_group": [], "project": [], "domain": []]
        for row in rows {
            ids["role"]!.insert(row.grant.roleID)
            switch row.grant.actor {
            case .user(let id): ids["identity_user"]!.insert(id)
            case .group(let id): ids["identity_group"]!.insert(id)
            }
            switch row.grant.target {
            case .project(let id): ids["project"]!.insert(id)
            case .domain(let id): ids["domain"]!.insert(id)
            case .system: break
            }
        }
        var names: [String: (name: String, domainID: String?)] = [:]
        for (table, kind) in [("role", "role"), ("identity_user", "user"), ("identity_group", "group"), ("project", "project")] {
            guard let wanted = ids[table], !wanted.isEmpty else { continue }
            for row in try await sql.select().columns("id", "name", "domain_id").from(table).where("id", .in, wanted.sorted()).all() {
                let named = try row.decode(NamedRow.self)
                names["\(kind):\(named.id)"] = (named.name, named.domainId)
                if named.domainId != RoleStore.globalDomain { ids["domain"]!.insert(named.domainId) }
            }
        }
        if let domains = ids["domain"], !domains.isEmpty {
            for row in try await sql.select().columns("id", "name").from("domain").where("id", .in, domains.sorted()).all() {
                let named = try row.decode(DomainNameRow.self)
                names["domain:\(named.id)"] = (named.name, nil)
            }
        }
        return names
    }

    /// `id, name, domain_id` of a role, user, group or project.
    struct NamedRow: Decodable {
        var id: String
        var name: String
        var domainId: String
    }

    /// `id, name` of a domain.
    struct DomainNameRow: Decodable {
        var id: String
        var name: String
    }
}

extension AssignmentStore {
    /// A subquery of the ids of the targets of `types` (`UserProject`, `GroupProject`, …) on which
    /// `userID` holds a role, directly or through one of its groups; the grants made there
    /// (`inherited` false) or the OS-INHERIT ones (true), which hold below the target.
    static func targetIDs(grantedTo userID: String, types: [String], inherited: Bool = false) -> some SQLExpression {
        SQLSubquery.select {
            $0.column("target_id").from("assignment")
                .where("type", .in, types)
                .where("inherited", .equal, inherited)
                .where(group: {
                    $0.where("actor_id", .equal, userID)
                        .orWhere(
                            "actor_id",
                            .in,
                            SQLSubquery.select { $0.column("group_id").from("group_membership").where("user_id", .equal, userID) }
                        )
                })
        }
    }
}
