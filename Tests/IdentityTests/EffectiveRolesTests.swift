import Testing

@testable import Identity

@Suite("Effective roles (keystone's assignment rules, on literal rows)")
struct EffectiveRolesTests {
    let topLineage = ProjectLineage(parents: [], domainID: "d1")

    func roles(
        on scope: RoleGrant.Target,
        groups: Set<String> = [],
        _ grants: [RoleGrant],
        lineage: ProjectLineage? = nil,
        implications: [RoleImplication] = []
    ) -> Set<String> {
        EffectiveRoles.roleIDs(on: scope, userID: "u1", groupIDs: groups, grants: grants, lineage: lineage, implications: implications)
    }

    @Test("a role granted to the user on the project counts there, and not on another project")
    func direct() {
        let grants = [RoleGrant(actor: .user("u1"), target: .project("p1"), roleID: "member")]
        #expect(roles(on: .project("p1"), grants, lineage: topLineage) == ["member"])
        #expect(roles(on: .project("p2"), grants, lineage: topLineage).isEmpty)
        #expect(
            EffectiveRoles.roleIDs(on: .project("p1"), userID: "u2", groupIDs: [], grants: grants, implications: []).isEmpty,
            "another user's grant does not count"
        )
    }

    @Test("a role granted to one of the user's groups counts; a group the user is not in does not")
    func viaGroup() {
        let grants = [
            RoleGrant(actor: .group("g1"), target: .project("p1"), roleID: "member"),
            RoleGrant(actor: .group("g2"), target: .project("p1"), roleID: "admin"),
        ]
        #expect(roles(on: .project("p1"), groups: ["g1"], grants, lineage: topLineage) == ["member"])
    }

    @Test("an inherited grant on the domain reaches its projects but not the domain itself")
    func inheritedFromDomain() {
        let grants = [RoleGrant(actor: .user("u1"), target: .domain("d1"), roleID: "reader", inherited: true)]
        #expect(roles(on: .project("p1"), grants, lineage: topLineage) == ["reader"])
        #expect(roles(on: .domain("d1"), grants).isEmpty)
        #expect(roles(on: .project("p9"), grants, lineage: ProjectLineage(parents: [], domainID: "d2")).isEmpty, "another domain's project")
    }

    @Test("an inherited grant on a parent project reaches its subtree but not the parent itself")
    func inheritedFromParent() {
        let grants = [RoleGrant(actor: .group("g1"), target: .project("parent"), roleID: "member", inherited: true)]
        let child = ProjectLineage(parents: ["parent"], domainID: "d1")
        let grandchild = ProjectLineage(parents: ["child", "parent"], domainID: "d1")
        #expect(roles(on: .project("child"), groups: ["g1"], grants, lineage: child) == ["member"])
        #expect(roles(on: .project("grandchild"), groups: ["g1"], grants, lineage: grandchild) == ["member"])
        #expect(roles(on: .project("parent"), groups: ["g1"], grants, lineage: topLineage).isEmpty)
    }

    @Test("implied roles follow a chain a → b → c")
    func impliedChain() {
        let grants = [RoleGrant(actor: .user("u1"), target: .system, roleID: "a")]
        let rules = [
            RoleImplication(prior: "a", implied: "b"), RoleImplication(prior: "b", implied: "c"),
            RoleImplication(prior: "x", implied: "y"),
        ]
        #expect(roles(on: .system, grants, implications: rules) == ["a", "b", "c"])
    }

    @Test("a cycle a → b → a ends the walk")
    func impliedCycle() {
        let rules = [RoleImplication(prior: "a", implied: "b"), RoleImplication(prior: "b", implied: "a")]
        #expect(EffectiveRoles.closure(of: ["a"], implications: rules) == ["a", "b"])
        #expect(EffectiveRoles.closure(of: ["b"], implications: rules) == ["a", "b"])
    }

    @Test("a plain domain grant does not leak into the domain's projects")
    func domainRoleStaysOnDomain() {
        let grants = [RoleGrant(actor: .user("u1"), target: .domain("d1"), roleID: "admin")]
        #expect(roles(on: .domain("d1"), grants) == ["admin"])
        #expect(roles(on: .project("p1"), grants, lineage: topLineage).isEmpty)
    }

    @Test("system grants count only on the system scope")
    func systemScope() {
        let grants = [
            RoleGrant(actor: .user("u1"), target: .system, roleID: "admin"),
            RoleGrant(actor: .group("g1"), target: .system, roleID: "reader"),
            RoleGrant(actor: .user("u1"), target: .project("p1"), roleID: "member"),
        ]
        #expect(roles(on: .system, groups: ["g1"], grants) == ["admin", "reader"])
        #expect(roles(on: .project("p1"), groups: ["g1"], grants, lineage: topLineage) == ["member"])
    }

    @Test("the effective listing turns group grants into members' grants and adds implied roles with their prior role")
    func expandListing() {
        let grants = [
            RoleGrant(actor: .group("g1"), target: .project("p1"), roleID: "a"),
            RoleGrant(actor: .user("u3"), target: .project("p1"), roleID: "b"),
        ]
        let members = [GroupMembership(groupID: "g1", userID: "u1"), GroupMembership(groupID: "g1", userID: "u2")]
        let rows = EffectiveRoles.expand(grants, memberships: members, implications: [RoleImplication(prior: "a", implied: "b")])
        #expect(rows.count == 5)
        #expect(rows.contains(.init(grant: .init(actor: .user("u2"), target: .project("p1"), roleID: "b"), viaGroup: "g1", priorRole: "a")))
        #expect(rows.filter { $0.grant.actor == .user("u3") }.count == 1, "a direct grant is not duplicated")
        #expect(!rows.contains { if case .group = $0.grant.actor { true } else { false } })
    }

    @Test("an inherited row becomes one row per project below its target: a domain's projects, a project's descendants")
    func inheritance() {
        let projects = [
            EffectiveRoles.ProjectNode(id: "top", parentID: "d", domainID: "d"),
            EffectiveRoles.ProjectNode(id: "mid", parentID: "top", domainID: "d"),
            EffectiveRoles.ProjectNode(id: "low", parentID: "mid", domainID: "d"),
            EffectiveRoles.ProjectNode(id: "else", parentID: "e", domainID: "e"),
        ]
        let plain = EffectiveRoles.Assignment(grant: RoleGrant(actor: .user("u"), target: .project("top"), roleID: "r"))
        let fromDomain = EffectiveRoles.Assignment(grant: RoleGrant(actor: .user("u"), target: .domain("d"), roleID: "x", inherited: true))
        let fromTop = EffectiveRoles.Assignment(grant: RoleGrant(actor: .user("u"), target: .project("top"), roleID: "y", inherited: true))
        let rows = EffectiveRoles.inherit([plain, fromDomain, fromTop], projects: projects)
        #expect(rows.first == plain)
        #expect(rows.filter { $0.grant.roleID == "x" }.map(\.grant.target) == [.project("low"), .project("mid"), .project("top")])
        #expect(rows.filter { $0.grant.roleID == "y" }.map(\.grant.target) == [.project("low"), .project("mid")], "not on top itself")
        #expect(rows.dropFirst().allSatisfy { !$0.grant.inherited && $0.inheritedFrom != nil })
        #expect(rows.filter { $0.grant.roleID == "y" }.allSatisfy { $0.inheritedFrom == .project("top") })
    }
}
