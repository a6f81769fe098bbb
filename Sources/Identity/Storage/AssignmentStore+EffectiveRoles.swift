import SQLKit
import StratusCore

/// The roles a token carries: the store narrows the rows in SQL, `EffectiveRoles` applies the rules.
extension AssignmentStore {
    /// The global roles `userID` holds on `scope` (directly, through its groups, inherited from
    /// above a project, and implied), by name — what a token carries. Domain-specific roles
    /// only count through the global roles they imply (keystone's rule: a domain role named
    /// `admin` must not pass `role:admin`). Three queries for a project (its lineage, the
    /// grants, the rules), two otherwise; the rules run in `EffectiveRoles`.
    func effectiveRoles(user userID: String, scope: RoleGrant.Target, in sql: any SQLDatabase) async throws -> [RoleRecord] {
        var lineage: ProjectLineage?
        let query = sql.select()
            .columns(Self.columns.map { SQLColumn($0, table: "a") })
            .column(SQLColumn("name", table: "r"), as: "role_name").column(SQLColumn("domain_id", table: "r"), as: "role_domain_id")
            .from(SQLAlias(SQLIdentifier("assignment"), as: "a"))
            .join(
                SQLAlias(SQLIdentifier("role"), as: "r"),
                method: SQLJoinMethod.inner,
                on: SQLColumn("role_id", table: "a"),
                .equal,
                SQLColumn("id", table: "r")
            )
            .where(group: {
                $0
                    .where(group: {
                        $0.where(SQLColumn("type", table: "a"), .in, SQLBind.group(Self.userTypes))
                            .where(SQLColumn("actor_id", table: "a"), .equal, SQLBind(userID))
                    })
                    .orWhere(group: {
                        $0.where(SQLColumn("type", table: "a"), .in, SQLBind.group(Self.groupTypes))
                            .where(
                                SQLColumn("actor_id", table: "a"),
                                .in,
                                SQLSubquery.select {
                                    $0
                                        .column("group_id").from("group_membership").where("user_id", .equal, userID)
                                }
                            )
                    })
            })
        let here = Key(actor: .user(userID), target: scope)
        let own = { (q: SQLPredicateGroupBuilder) in
            q.where(SQLColumn("target_id", table: "a"), .equal, SQLBind(here.targetID))
                .where(SQLColumn("inherited", table: "a"), .equal, SQLBind(false))
        }
        if case .project(let id) = scope, let found = try await self.lineage(of: id, in: sql) {
            lineage = found
            let above = found.parents + [found.domainID]
            query.where(group: {
                $0.where(group: own).orWhere(group: {
                    $0
                        .where(SQLColumn("target_id", table: "a"), .in, SQLBind.group(above))
                        .where(SQLColumn("inherited", table: "a"), .equal, SQLBind(true))
                })
            })
        } else {
            query.where(group: own)
        }
        var grants: [RoleGrant] = []
        var roles: [String: RoleRecord] = [:]
        var groupIDs: Set<String> = []
        for row in try await query.all() {
            let named = try row.decode(GrantedRow.self)
            guard let grant = named.row.grant else { continue }
            grants.append(grant)
            // NOTE: the query kept only the user's own groups, so their ids are the groups that matter.
            if case .group(let id) = grant.actor { groupIDs.insert(id) }
            roles[grant.roleID] = RoleRecord(
                id: grant.roleID,
                name: named.roleName,
                domainID: named.roleDomainId == RoleStore.globalDomain ? nil : named.roleDomainId
            )
        }
        guard !grants.isEmpty else { return [] }
        var implications: [RoleImplication] = []
        for row in try await Self.implicationsWithRoles(in: sql) {
            implications.append(RoleImplication(prior: row.priorRoleId, implied: row.impliedRoleId))
            roles[row.impliedRoleId] = RoleRecord(
                id: row.impliedRoleId,
                name: row.name,
                domainID: row.domainId == RoleStore.globalDomain ? nil : row.domainId
            )
        }
        let ids = EffectiveRoles.roleIDs(
            on: scope,
            userID: userID,
            groupIDs: groupIDs,
            grants: grants,
            lineage: lineage,
            implications: implications
        )
        return ids.compactMap { roles[$0] }.filter { $0.domainID == nil }
            .sorted { ($0.name, $0.id) < ($1.name, $1.id) }
    }

    /// A grant with its role's name and domain.
    struct GrantedRow: Decodable {
        var type: String
        var actorId: String
        var targetId: String
        var roleId: String
        var inherited: Bool
        var roleName: String
        var roleDomainId: String

        var row: Row { Row(type: type, actorId: actorId, targetId: targetId, roleId: roleId, inherited: inherited) }
    }

    /// An implied-role rule with the implied role's name and domain.
    struct ImplicationRow: Decodable {
        var priorRoleId: String
        var impliedRoleId: String
        var name: String
        var domainId: String
    }

    private static func implicationsWithRoles(in sql: any SQLDatabase) async throws -> [ImplicationRow] {
        try await sql.select()
            .column(SQLColumn("prior_role_id", table: "i")).column(SQLColumn("implied_role_id", table: "i"))
            .column(SQLColumn("name", table: "r")).column(SQLColumn("domain_id", table: "r"))
            .from(SQLAlias(SQLIdentifier("implied_role"), as: "i"))
            .join(
                SQLAlias(SQLIdentifier("role"), as: "r"),
                method: SQLJoinMethod.inner,
                on: SQLColumn("implied_role_id", table: "i"),
                .equal,
                SQLColumn("id", table: "r")
            )
            .all().map { try $0.decode(ImplicationRow.self) }
    }

    /// The parent projects above project `id` (nearest first) and its domain, in one query;
    /// nil when the project does not exist. Bounded at 32 levels.
    func lineage(of id: String, in sql: any SQLDatabase) async throws -> ProjectLineage? {
        let rows = try await sql.raw(
            """
            WITH RECURSIVE chain(id, parent_id, domain_id, depth) AS (
              SELECT id, parent_id, domain_id, 0 FROM project WHERE id = \(bind: id)
              UNION ALL
              SELECT p.id, p.parent_id, p.domain_id, c.depth + 1 FROM project p JOIN chain c ON p.id = c.parent_id
              WHERE c.parent_id <> c.domain_id AND c.depth < 32)
            SELECT id, domain_id, depth FROM chain ORDER BY depth
            """
        ).all().map { try $0.decode(ChainRow.self) }
        guard let first = rows.first else { return nil }
        return ProjectLineage(parents: rows.dropFirst().map(\.id), domainID: first.domainId)
    }

    /// One step of a project's lineage.
    struct ChainRow: Decodable {
        var id: String
        var domainId: String
        var depth: Int
    }
}
