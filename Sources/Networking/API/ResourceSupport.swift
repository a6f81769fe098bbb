import Foundation
import Hummingbird
import SQLKit
import StratusCore

/// Helpers every resource's routes use: finding a record the caller may see (else the
/// resource's 404), decorating stored records as neutron shows them, quotas.
extension NetworkService {
    /// The record, or the resource's 404 when it does not exist or the caller may not read it.
    func visible(
        _ kind: ResourceKind,
        _ id: String,
        _ ctx: StratusContext,
        lock: Bool = false,
        target: (([String: JSON]) async throws -> [String: JSON])? = nil,
        in sql: any SQLDatabase
    ) async throws -> [String: JSON] {
        guard var record = try await RecordStore(kind).find(id, lock: lock, in: sql) else { throw NetworkError.notFound(kind, id) }
        if kind == .network { record = try await effective([record], ctx, in: sql)[0] }
        let t = try await target?(record) ?? record
        guard allows(ctx, "get_\(kind.singular)", t) else { throw NetworkError.notFound(kind, id) }
        return record
    }

    /// Networks as the caller sees them: `shared` / `router:external` also when an RBAC policy
    /// grants them to the caller's project.
    func effective(_ networks: [[String: JSON]], _ ctx: StratusContext, in sql: any SQLDatabase) async throws -> [[String: JSON]] {
        guard let project = ctx.caller?.projectID, !isAdmin(ctx) else { return networks }
        let grants = try await RBACGrantStore().grants(project: project, in: sql)
        guard !grants.shared.isEmpty || !grants.external.isEmpty else { return networks }
        return networks.map { n in
            var v = n
            let id = n["id"]?.stringValue ?? ""
            if grants.shared.contains(id) { v["shared"] = true }
            if grants.external.contains(id) { v["router:external"] = true }
            return v
        }
    }

    /// Policy targets of subnets or ports: each record with its network's owner
    /// (`network:tenant_id`), `shared` and `router:external` as the caller sees them (one query
    /// for the networks of the page).
    func withNetworks(_ records: [[String: JSON]], _ ctx: StratusContext, in sql: any SQLDatabase) async throws -> [[String: JSON]] {
        let ids = Array(Set(records.compactMap { $0["network_id"]?.stringValue }))
        guard !ids.isEmpty else { return records }
        let found = try await RecordStore(.network).list([.idIn(ids)], in: sql)
        var networks: [String: [String: JSON]] = [:]
        for n in try await effective(found, ctx, in: sql) { networks[n["id"]?.stringValue ?? ""] = n }
        return records.map { r in
            var t = r
            if let net = networks[r["network_id"]?.stringValue ?? ""] {
                t["network:tenant_id"] = net["project_id"] ?? .null
                t["network:project_id"] = net["project_id"] ?? .null
                t["shared"] = net["shared"] ?? false
                t["router:external"] = net["router:external"] ?? false
            }
            return t
        }
    }

    /// Ids of networks an RBAC policy grants to the caller's project.
    func grantedNetworks(_ ctx: StratusContext, in sql: any SQLDatabase) async throws -> [String] {
        guard let project = ctx.caller?.projectID, !isAdmin(ctx) else { return [] }
        return try await RBACGrantStore().grants(project: project, in: sql).all
    }

    /// Visibility condition for a list: nothing for admins, else the caller's project (and the
    /// given shared columns).
    func listScope(
        _ ctx: StratusContext,
        orTrue: [String] = [],
        orIDs: [String] = [],
        orIn: [(String, [String])] = []
    ) throws -> [RecordStore.Condition] {
        if isAdmin(ctx) { return [] }
        let caller = try ctx.requireCaller()
        return [.visible(project: caller.projectID ?? "", orTrue: orTrue, orIDs: orIDs, orIn: orIn)]
    }

    /// Adds `tenant_id` and `tags` (one query for the page).
    func decorate(_ kind: ResourceKind, _ records: [[String: JSON]], in sql: any SQLDatabase) async throws -> [[String: JSON]] {
        let tags = kind.tagged ? try await TagStore().tags(records.compactMap { $0["id"]?.stringValue }, in: sql) : [:]
        return records.map { r in
            var v = r
            v["tenant_id"] = r["project_id"] ?? .null
            if kind.tagged { v["tags"] = .array((tags[r["id"]?.stringValue ?? ""] ?? []).map(JSON.string)) }
            return v
        }
    }

    /// The project a create is for: the body's (`project_id` / `tenant_id`, admins only when it
    /// is another project) or the caller's.
    func owner(_ ctx: StratusContext, _ body: [String: JSON]) throws -> String {
        let caller = try ctx.requireCaller()
        if let p = body["project_id"]?.stringValue, !p.isEmpty { return p }
        guard let project = caller.projectID else {
            throw NetworkError.make(.badRequest, "HTTPBadRequest", "project_id is required when the token is not project-scoped")
        }
        return project
    }

    /// The project's limit for a resource (`[quotas]` default, or a per-project value).
    func quotaLimit(_ resource: String, project: String, in sql: any SQLDatabase) async throws -> Int64 {
        let limits = try await QuotaStore().limits(project: project, in: sql)
        return limits[resource] ?? settings.quotas[resource] ?? -1
    }

    /// 409 `OverQuota` when `adding` more of the resource would exceed the project's limit.
    func checkQuota(_ kind: ResourceKind, project: String, adding: Int = 1, in sql: any SQLDatabase) async throws {
        let limit = try await quotaLimit(kind.singular, project: project, in: sql)
        guard limit >= 0 else { return }
        let used = try await RecordStore(kind).count([.oneOf(kind.attribute("project_id")!, [.string(project)])], in: sql)
        if Int64(used + adding) > limit { throw NetworkError.overQuota([kind.singular]) }
    }

    /// Fills the standard attributes of a new record.
    static func stamped(_ record: [String: JSON], id: String? = nil) -> [String: JSON] {
        var r = record
        let now = Timestamps.now()
        r["id"] = .string(id ?? r["id"]?.stringValue ?? NetworkHTTP.newID())
        r["revision_number"] = 0
        r["created_at"] = .string(now)
        r["updated_at"] = .string(now)
        if r["description"] == nil { r["description"] = "" }
        return r
    }
}
