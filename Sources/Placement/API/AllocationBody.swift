import StratusCore

/// Reads allocation bodies in every shape placement accepted over time: the list form (before
/// 1.12), the dict form keyed by provider (1.12+), with `project_id`/`user_id` (optional before
/// 1.8), `consumer_generation` (1.28) and `consumer_type` (1.38).
struct AllocationBody {
    let ctx: StratusContext
    let settings: PlacementSettings

    /// One consumer's write from its body object (`PUT /allocations/{c}`, an entry of `POST
    /// /allocations` or of the reshaper).
    func consumer(_ uuid: String, _ json: JSON, listForm: Bool, deletable: Bool = false) throws -> ConsumerWrite {
        var allowed = ["allocations", "project_id", "user_id"]
        // 1.34: `mappings` (what a candidate said) may come back with the claim; placement accepts
        // and checks it, and does not store it.
        if ctx.atLeast(34) { allowed.append("mappings") }
        var required = ["allocations"]
        if ctx.atLeast(8) { required += ["project_id", "user_id"] }
        if ctx.atLeast(28) {
            allowed.append("consumer_generation")
            required.append("consumer_generation")
        }
        if ctx.atLeast(38) {
            allowed.append("consumer_type")
            required.append("consumer_type")
        }
        let o = try PlacementHTTP.object(json, allowed: allowed, required: required)
        let items = listForm ? try listAllocations(o["allocations"]!) : try dictAllocations(o["allocations"]!, deletable: deletable)
        if let mappings = o["mappings"] {
            guard case .object(let bySuffix) = mappings else {
                throw PlacementHTTP.invalid("\(PlacementHTTP.repr(mappings)) is not of type 'object'")
            }
            for (suffix, providers) in bySuffix {
                _ = try PlacementHTTP.string(.string(suffix), pattern: "^[a-zA-Z0-9_-]{0,64}$")
                guard case .array(let list) = providers, !list.isEmpty else {
                    throw PlacementHTTP.invalid("\(PlacementHTTP.repr(providers)) is not a non-empty 'array'")
                }
                for p in list { _ = try PlacementHTTP.string(p, pattern: PlacementHTTP.uuidPattern) }
            }
        }
        var project = try o["project_id"].map { try PlacementHTTP.string($0, minLength: 1, maxLength: 255) }
        var user = try o["user_id"].map { try PlacementHTTP.string($0, minLength: 1, maxLength: 255) }
        if (project == nil) != (user == nil) {
            throw PlacementHTTP.invalid(
                "'\(project == nil ? "project_id" : "user_id")' is a dependency of '\(project == nil ? "user_id" : "project_id")'"
            )
        }
        if project == nil {
            project = settings.incompleteProjectID
            user = settings.incompleteUserID
        }
        var expected: Int?? = nil
        if ctx.atLeast(28) {
            let g = o["consumer_generation"]!
            expected = .some(g.isNull ? nil : try PlacementHTTP.int(g))
        }
        let type = try o["consumer_type"].map { try PlacementHTTP.string($0, pattern: PlacementHTTP.classPattern, maxLength: 255) }
        return ConsumerWrite(uuid: uuid, projectID: project!, userID: user!, expectedGeneration: expected, consumerType: type, allocations: items)
    }

    /// `[{"resource_provider": {"uuid"}, "resources": {...}}]` (before 1.12).
    func listAllocations(_ v: JSON) throws -> [AllocationItem] {
        guard case .array(let list) = v else { throw PlacementHTTP.invalid("\(PlacementHTTP.repr(v)) is not of type 'array'") }
        if list.isEmpty { throw PlacementHTTP.invalid("[] is too short") }
        // A provider named twice: the last entry wins, as placement reads the list into a dict.
        var byProvider: [String: [AllocationItem]] = [:]
        var order: [String] = []
        for entry in list {
            let e = try PlacementHTTP.object(entry, allowed: ["resource_provider", "resources"], required: ["resource_provider", "resources"])
            let rp = try PlacementHTTP.object(e["resource_provider"]!, allowed: ["uuid"], required: ["uuid"])
            let uuid = PlacementHTTP.canonicalUUID(try PlacementHTTP.string(rp["uuid"]!, pattern: PlacementHTTP.uuidPattern))
            if byProvider[uuid] == nil { order.append(uuid) }
            byProvider[uuid] = try resources(e["resources"]!, provider: uuid)
        }
        return order.flatMap { byProvider[$0]! }
    }

    /// `{"<rp uuid>": {"resources": {...}, "generation"?: n}}` (1.12+); empty only from 1.28.
    func dictAllocations(_ v: JSON, deletable: Bool = false) throws -> [AllocationItem] {
        guard case .object(let o) = v else { throw PlacementHTTP.invalid("\(PlacementHTTP.repr(v)) is not of type 'object'") }
        if o.isEmpty && !ctx.atLeast(28) && !deletable { throw PlacementHTTP.invalid("{} does not have enough properties") }
        var out: [AllocationItem] = []
        for (key, entry) in o.sorted(by: { $0.key < $1.key }) {
            guard key.range(of: PlacementHTTP.uuidPattern, options: .regularExpression) != nil else {
                throw PlacementHTTP.invalid("'\(key)' does not match any of the regexes: '\(PlacementHTTP.uuidPattern)'")
            }
            let e = try PlacementHTTP.object(entry, allowed: ["resources", "generation"], required: ["resources"])
            out += try resources(e["resources"]!, provider: PlacementHTTP.canonicalUUID(key))
        }
        return out
    }

    func resources(_ v: JSON, provider: String) throws -> [AllocationItem] {
        guard case .object(let o) = v else { throw PlacementHTTP.invalid("\(PlacementHTTP.repr(v)) is not of type 'object'") }
        if o.isEmpty { throw PlacementHTTP.invalid("{} does not have enough properties") }
        return try o.sorted(by: { $0.key < $1.key }).map { rc, amount in
            _ = try PlacementHTTP.string(.string(rc), pattern: PlacementHTTP.classPattern)
            return AllocationItem(provider: provider, resourceClass: rc, used: try PlacementHTTP.int(amount, min: 1, max: PlacementHTTP.maxInt))
        }
    }
}
