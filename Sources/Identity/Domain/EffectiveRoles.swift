/// One role assignment as keystone's `assignment` table holds it: who, where, which role, and
/// whether it is inherited (OS-INHERIT: it then applies below its target, not on it).
struct RoleGrant: Hashable, Sendable {
    /// Who holds the role.
    enum Actor: Hashable, Sendable {
        case user(String)
        case group(String)
    }

    /// Where the role is held.
    enum Target: Hashable, Sendable {
        case project(String)
        case domain(String)
        case system
    }

    var actor: Actor
    var target: Target
    var roleID: String
    var inherited = false
}

/// An implied-role rule: holding `prior` also grants `implied`.
struct RoleImplication: Hashable, Sendable {
    var prior: String
    var implied: String
}

/// A project's place in the tree, for inherited assignments: its parent projects, nearest
/// first (not the project itself), and its domain.
struct ProjectLineage: Equatable, Sendable {
    var parents: [String]
    var domainID: String
}

/// A user's membership of a group.
struct GroupMembership: Hashable, Sendable {
    var groupID: String
    var userID: String
}

/// keystone's effective-role rules (`assignment/core.py`), on rows the stores have read:
/// group membership, inherited assignments and the implied-role closure. Pure: no storage.
enum EffectiveRoles {
    /// The role ids `userID` holds on `scope`: its own grants and its groups' (`groupIDs`),
    /// grants made on the scope itself, and for a project the grants inherited from its domain
    /// and parent projects (`lineage`); then every role those imply. A grant on a domain that
    /// is not inherited does not reach the domain's projects.
    static func roleIDs(
        on scope: RoleGrant.Target,
        userID: String,
        groupIDs: Set<String>,
        grants: [RoleGrant],
        lineage: ProjectLineage? = nil,
        implications: [RoleImplication]
    ) -> Set<String> {
        var direct: Set<String> = []
        for grant in grants
        where holds(grant.actor, userID: userID, groupIDs: groupIDs)
            && reaches(grant, scope: scope, lineage: lineage)
        {
            direct.insert(grant.roleID)
        }
        return closure(of: direct, implications: implications)
    }

    /// `roles` plus every role they imply, transitively; a cycle in the rules ends the walk.
    static func closure(of roles: Set<String>, implications: [RoleImplication]) -> Set<String> {
        guard !roles.isEmpty, !implications.isEmpty else { return roles }
        var implies: [String: [String]] = [:]
        for rule in implications { implies[rule.prior, default: []].append(rule.implied) }
        var result = roles
        var queue = Array(roles)
        while let role = queue.popLast() {
            for implied in implies[role] ?? [] where result.insert(implied).inserted { queue.append(implied) }
        }
        return result
    }

    /// One row of `GET /v3/role_assignments?effective`: a user's grant, the group it came
    /// through, and for an implied role the role that implied it.
    struct Assignment: Hashable, Sendable {
        var grant: RoleGrant
        var viaGroup: String?
        var priorRole: String?
        /// For a row an inherited grant produced: where that grant was made.
        var inheritedFrom: RoleGrant.Target?
    }

    /// A project as the inheritance walk needs it.
    struct ProjectNode: Hashable, Sendable {
        var id: String
        var parentID: String?
        var domainID: String
    }

    /// keystone's inherited grants in the effective listing: each inherited row becomes one
    /// row per project below its target — every project of a domain, every descendant of a
    /// project (not the project itself) — with `inheritedFrom` naming where it was made; other
    /// rows stay as they are. Rows come out in input order, each expansion by project id.
    static func inherit(_ rows: [Assignment], projects: [ProjectNode]) -> [Assignment] {
        var children: [String: [String]] = [:]
        var ofDomain: [String: [String]] = [:]
        for p in projects {
            ofDomain[p.domainID, default: []].append(p.id)
            if let parent = p.parentID, parent != p.domainID { children[parent, default: []].append(p.id) }
        }
        func below(_ target: RoleGrant.Target) -> [String] {
            switch target {
            case .domain(let id): return (ofDomain[id] ?? []).sorted()
            case .project(let id):
                var out: [String] = []
                var queue = children[id] ?? []
                var seen: Set<String> = [id]
                while let next = queue.popLast() {
                    guard seen.insert(next).inserted else { continue }
                    out.append(next)
                    queue += children[next] ?? []
                }
                return out.sorted()
            case .system: return []
            }
        }
        var result: [Assignment] = []
        var seen: Set<Assignment> = []
        for row in rows {
            guard row.grant.inherited else {
                if seen.insert(row).inserted { result.append(row) }
                continue
            }
            for project in below(row.grant.target) {
                var each = row
                each.inheritedFrom = row.grant.target
                each.grant.target = .project(project)
                each.grant.inherited = false
                if seen.insert(each).inserted { result.append(each) }
            }
        }
        return result
    }

    /// keystone's effective listing: each group grant becomes one grant per member (in
    /// `memberships` order), then each grant is followed by the roles it implies, transitively
    /// (`priorRole` is the role that implied it directly); duplicates are dropped, first kept.
    static func expand(_ grants: [RoleGrant], memberships: [GroupMembership], implications: [RoleImplication]) -> [Assignment] {
        var members: [String: [String]] = [:]
        for m in memberships { members[m.groupID, default: []].append(m.userID) }
        var expanded: [Assignment] = []
        for grant in grants {
            guard case .group(let group) = grant.actor else {
                expanded.append(Assignment(grant: grant))
                continue
            }
            for user in members[group] ?? [] {
                var own = grant
                own.actor = .user(user)
                expanded.append(Assignment(grant: own, viaGroup: group))
            }
        }
        var implies: [String: [String]] = [:]
        for rule in implications { implies[rule.prior, default: []].append(rule.implied) }
        var result: [Assignment] = []
        var seenRows: Set<Assignment> = []
        for assignment in expanded {
            if seenRows.insert(assignment).inserted { result.append(assignment) }
            var queue = [assignment.grant.roleID]
            var seen: Set<String> = [assignment.grant.roleID]
            while let prior = queue.popLast() {
                for implied in implies[prior] ?? [] where seen.insert(implied).inserted {
                    queue.append(implied)
                    var row = assignment
                    row.grant.roleID = implied
                    row.priorRole = prior
                    if seenRows.insert(row).inserted { result.append(row) }
                }
            }
        }
        return result
    }

    /// Whether `actor` is the user or one of its groups.
    static func holds(_ actor: RoleGrant.Actor, userID: String, groupIDs: Set<String>) -> Bool {
        switch actor {
        case .user(let id): id == userID
        case .group(let id): groupIDs.contains(id)
        }
    }

    /// Whether `grant` applies on `scope`: a plain grant on the scope itself; an inherited one
    /// only on a project below its target (the project's domain or a parent project).
    static func reaches(_ grant: RoleGrant, scope: RoleGrant.Target, lineage: ProjectLineage?) -> Bool {
        guard grant.inherited else { return grant.target == scope }
        guard case .project = scope, let lineage else { return false }
        switch grant.target {
        case .domain(let id): return id == lineage.domainID
        case .project(let id): return lineage.parents.contains(id)
        case .system: return false
        }
    }
}
