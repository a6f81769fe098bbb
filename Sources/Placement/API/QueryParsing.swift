import Hummingbird
import StratusCore

/// placement's query syntax (`resources=VCPU:2,MEMORY_MB:512`, `required=A,!B` / `in:A,B`,
/// `member_of=<agg>` / `in:a,b` / `!<agg>` / `!in:a,b`, `in_tree=<uuid>`), with its messages.
enum QueryParsing {
    /// `resources`: class → amount, in the order given.
    static func resources(_ value: String) throws -> [(String, Int)] {
        if value.trimmingCharacters(in: .whitespaces).isEmpty {
            throw PlacementError.badRequest(
                "Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: empty string."
            )
        }
        var result: [(String, Int)] = []
        for item in value.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = item.split(separator: ":", omittingEmptySubsequences: false)
            guard pair.count == 2 else {
                throw PlacementError.badRequest(
                    "Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: \(item)."
                )
            }
            let name = String(pair[0])
            guard let amount = Int(pair[1].trimmingCharacters(in: .whitespaces)) else {
                throw PlacementError.badRequest("Requested resource \(name) expected positive integer amount. Got: \(pair[1]).")
            }
            if amount < 1 { throw PlacementError.badRequest("Requested resource \(name) requires amount >= 1. Got: \(amount).") }
            if let i = result.firstIndex(where: { $0.0 == name }) { result[i].1 = amount } else { result.append((name, amount)) }
        }
        return result
    }

    /// Every `required<suffix>` value: any-of sets and forbidden names. Before 1.39 only the last value counts.
    static func traits(_ values: [String], _ ctx: StratusContext, anyOf: Bool = true) throws -> (required: [Set<String>], forbidden: Set<String>) {
        let allowForbidden = ctx.atLeast(22)
        let allowAnyOf = anyOf && ctx.atLeast(39)
        var required: [Set<String>] = []
        var forbidden = Set<String>()
        for value in allowAnyOf ? values : Array(values.suffix(1)) {
            if value.hasPrefix("in:") {
                guard allowAnyOf else {
                    throw PlacementError.badRequest(
                        "Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since microversion 1.39. Got: \(value)"
                    )
                }
                let names = Set(
                    value.dropFirst(3).split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                )
                if names.contains("") {
                    throw PlacementError.badRequest(
                        "Invalid query string parameters: Expected 'required' parameter value of the form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: \(value)"
                    )
                }
                if names.contains(where: { $0.hasPrefix("!") }) {
                    throw PlacementError.badRequest(
                        "Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does not support forbidden traits. Got: \(value)"
                    )
                }
                required.append(names)
                continue
            }
            let names = value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let bad = names.filter { $0.hasPrefix("!") }.map { String($0.dropFirst()) }
            if names.contains("") || bad.contains("") {
                let form = allowForbidden ? "HW_CPU_X86_VMX,!CUSTOM_MAGIC" : "HW_CPU_X86_VMX,CUSTOM_MAGIC"
                throw PlacementError.badRequest(
                    "Invalid query string parameters: Expected 'required' parameter value of the form: \(form). Got an empty trait in: \(value)"
                )
            }
            if !bad.isEmpty && !allowForbidden {
                throw PlacementError.badRequest(
                    "Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: \(value)"
                )
            }
            required += names.filter { !$0.hasPrefix("!") }.map { [$0] }
            forbidden.formUnion(bad)
        }
        return (required, forbidden)
    }

    /// Every `member_of<suffix>` value: any-of sets and forbidden aggregates.
    static func memberOf(_ values: [String], suffix: String, _ ctx: StratusContext) throws -> (memberOf: [Set<String>], forbidden: Set<String>) {
        if !ctx.atLeast(24) && values.count > 1 {
            throw PlacementError.badRequest("Multiple member_of\(suffix) parameters are not supported")
        }
        var memberOf: [Set<String>] = []
        var forbidden = Set<String>()
        for value in values {
            if value.contains(","), !(value.hasPrefix("in:") || value.hasPrefix("!in:")) {
                throw PlacementError.badRequest(
                    "Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' keyword using the valid microversion. Got: \(value)"
                )
            }
            var req = Set<String>()
            var bad = Set<String>()
            if value.hasPrefix("!in:") {
                bad = Set(value.dropFirst(4).split(separator: ",", omittingEmptySubsequences: false).map(String.init))
            } else if value.hasPrefix("!") {
                bad = [String(value.dropFirst())]
            } else if value.hasPrefix("in:") {
                req = Set(value.dropFirst(3).split(separator: ",", omittingEmptySubsequences: false).map(String.init))
            } else {
                req = [value]
            }
            for uuid in req.union(bad) where !PlacementHTTP.isUUIDLike(uuid) {
                throw PlacementError.badRequest(
                    "Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: \(uuid)"
                )
            }
            if !req.isEmpty { memberOf.append(Set(req.map(PlacementHTTP.canonicalUUID))) }
            if !bad.isEmpty {
                guard ctx.atLeast(32) else {
                    throw PlacementError.badRequest("Forbidden member_of\(suffix) parameters are not supported in the specified microversion")
                }
                forbidden.formUnion(bad.map(PlacementHTTP.canonicalUUID))
            }
        }
        return (memberOf, forbidden)
    }

    /// `in_tree<suffix>`.
    static func inTree(_ value: String) throws -> String {
        let v = value.trimmingCharacters(in: .whitespaces)
        guard PlacementHTTP.isUUIDLike(v) else {
            throw PlacementError.badRequest("Invalid query string parameters: Expected 'in_tree' parameter to be a format of uuid. Got: \(value)")
        }
        return PlacementHTTP.canonicalUUID(v)
    }
}

/// The filters of `GET /resource_providers`, applied to the provider view.
struct ProviderFilter {
    var name: String?
    var uuid: String?
    var memberOf: [Set<String>] = []
    var forbiddenAggregates: Set<String> = []
    var resources: [(String, Int)] = []
    var inTree: String?
    var required: [Set<String>] = []
    var forbidden: Set<String> = []

    init(_ req: Request, _ ctx: StratusContext) throws {
        name = req.query("name")
        uuid = req.query("uuid")
        if ctx.atLeast(3) {
            (memberOf, forbiddenAggregates) = try QueryParsing.memberOf(PlacementHTTP.all(req, "member_of"), suffix: "", ctx)
        }
        if ctx.atLeast(4), let r = req.query("resources") { resources = try QueryParsing.resources(r) }
        if ctx.atLeast(14), let t = req.query("in_tree") { inTree = try QueryParsing.inTree(t) }
        if ctx.atLeast(18) {
            let values = PlacementHTTP.all(req, "required")
            if !values.isEmpty { (required, forbidden) = try QueryParsing.traits(values, ctx) }
        }
    }

    /// The matching providers in creation order. 400 for an unknown class or trait, as placement.
    func apply(_ world: ProviderWorld) throws -> [Int] {
        let search = CandidateSearch(world: world, query: CandidateQuery(groups: []))
        var ids = world.allIndexes
        if let name { ids = ids.filter { world.provider($0).name == name } }
        if let uuid { ids = ids.filter { world.provider($0).uuid == uuid } }
        if !memberOf.isEmpty {
            let ok = search.providers(inAggregates: memberOf)
            ids = ids.filter(ok.contains)
        }
        if !forbiddenAggregates.isEmpty {
            let bad = search.providers(inAggregates: [forbiddenAggregates])
            ids = ids.filter { !bad.contains($0) }
        }
        if let inTree {
            guard let t = world.provider(uuid: inTree) else { return [] }
            let root = world.root(of: t)
            ids = ids.filter { world.root(of: $0) == root }
        }
        for (name, amount) in resources {
            guard let cls = world.classIDs[name] else { return [] }
            ids = ids.filter { world.fits($0, cls: cls, amount: amount) }
        }
        for anyOf in required {
            let t = Set(anyOf.compactMap { world.traitIDs[$0] })
            ids = ids.filter { !world.provider($0).traits.isDisjoint(with: t) }
        }
        let bad = Set(forbidden.compactMap { world.traitIDs[$0] })
        if !bad.isEmpty { ids = ids.filter { world.provider($0).traits.isDisjoint(with: bad) } }
        return ids
    }
}
