import Foundation
import HTTPTypes
import Hummingbird
import SQLKit
import StratusCore

/// What every neutron route shares: the `{"<resource>": {…}}` body, list queries (filters on
/// any stored attribute, `fields`, sorting, pagination with `<resources>_links`), `If-Match`,
/// and answers with only the attributes the caller may read.
enum NetworkHTTP {
    /// The object under `key` of a JSON body, with neutron's 400s.
    static func body(_ request: Request, _ ctx: StratusContext, key: String) async throws -> [String: JSON] {
        let json: JSON
        do { json = try await request.jsonBody(limit: ctx.bodyLimit) } catch let e as OpenStackError {
            throw NetworkError.invalidBody(e.message)
        }
        guard let object = json.objectValue else { throw NetworkError.invalidBody("Body contains invalid data") }
        guard let inner = object[key] else { throw NetworkError.invalidBody("Unable to find '\(key)' in request body") }
        guard let dict = inner.objectValue else { throw NetworkError.invalidBody("Body contains invalid data") }
        return dict
    }

    static func newID() -> String { UUID().uuidString.lowercased() }

    /// `If-Match: revision_number=N` (several may be given): 412 unless the record is at N.
    static func checkRevision(_ request: Request, _ record: [String: JSON]) throws {
        guard let header = request.header("If-Match") else { return }
        let current = record["revision_number"]?.intValue ?? 0
        for item in header.split(separator: ",") {
            let t = item.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("revision_number=") else { continue }
            guard let n = Int64(t.dropFirst("revision_number=".count)) else {
                throw NetworkError.invalidInput("If-Match header value \(t) is not revision_number=<integer>")
            }
            if n != current { throw NetworkError.revisionMismatch(expected: n, current: current) }
        }
    }

    /// One resource's answer: `{"network": {…}}`, limited to `?fields=` when given.
    static func one(_ key: String, _ view: [String: JSON], fields: [String] = [], status: HTTPResponse.Status = .ok) -> Response {
        .json([key: .object(project(view, fields))], status: status)
    }

    static func project(_ view: [String: JSON], _ fields: [String]) -> [String: JSON] {
        guard !fields.isEmpty else { return view }
        return view.filter { fields.contains($0.key) }
    }

    static func fields(_ request: Request) -> [String] {
        request.queryItems.filter { $0.0 == "fields" }.flatMap { $0.1.split(separator: ",").map(String.init) }
    }
}

/// A parsed list request.
struct ListQuery {
    static let reserved: Set<String> = [
        "fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse", "tags", "tags-any", "not-tags", "not-tags-any",
    ]

    var kind: ResourceKind
    var fields: [String] = []
    var limit: Int?
    var marker: String?
    var sort: [RecordStore.Sort] = []
    var pageReverse = false
    /// Conditions on stored attributes.
    var conditions: [RecordStore.Condition] = []
    /// Filters on attributes that are not columns (`fixed_ips`, `security_groups`), for the route.
    var extra: [String: [String]] = [:]
    var query: [(String, String)] = []

    init(_ request: Request, kind: ResourceKind, extraFilters: Set<String> = [], maxLimit: Int?) throws {
        self.kind = kind
        query = request.queryItems
        fields = NetworkHTTP.fields(request)
        var values: [String: [String]] = [:]
        var keys: [String] = []
        var dirs: [String] = []
        var tags: [String: [String]] = [:]
        for (name, value) in query {
            switch name {
            case "fields": continue
            case "limit":
                guard let n = Int(value) else { throw NetworkError.invalidInput("Limit must be an integer 0 or greater and not '\(value)'") }
                guard n >= 0 else { throw NetworkError.invalidInput("Limit must be an integer 0 or greater and not '\(value)'") }
                limit = n == 0 ? nil : n
            case "marker": marker = value
            case "sort_key": keys.append(value)
            case "sort_dir": dirs.append(value)
            case "page_reverse": pageReverse = ["true", "1"].contains(value.lowercased())
            case "tags", "tags-any", "not-tags", "not-tags-any":
                tags[name, default: []] += value.split(separator: ",").map(String.init)
            default: values[name, default: []].append(value)
            }
        }
        if let maxLimit { limit = min(limit ?? maxLimit, maxLimit) }
        guard keys.count == dirs.count || dirs.isEmpty else {
            throw NetworkError.invalidInput("The number of sort_keys and sort_dirs must be same")
        }
        for (i, key) in keys.enumerated() {
            let k = key == "tenant_id" ? "project_id" : key
            guard let a = kind.attribute(k), a.type != .json else {
                throw NetworkError.make(.badRequest, "HTTPBadRequest", "\(key) is an invalid attribute for sort_keys")
            }
            let dir = dirs.isEmpty ? "asc" : dirs[i]
            guard dir == "asc" || dir == "desc" else {
                throw NetworkError.make(.badRequest, "HTTPBadRequest", "\(dir) is an invalid value for sort_dirs, valid values are: asc, desc")
            }
            sort.append(RecordStore.Sort(attribute: a, ascending: dir == "asc"))
        }
        for (name, vs) in values {
            let n = name == "tenant_id" ? "project_id" : name
            if extraFilters.contains(n) {
                extra[n] = vs
            } else if let a = kind.attribute(n), a.type != .json {
                conditions.append(.oneOf(a, vs.map { ListQuery.value($0, a.type) }))
            }
            // Anything else is ignored, as neutron does with filter validation off: clients send
            // filters for attributes of extensions they assume.
        }
        if !tags.isEmpty {
            conditions.append(
                .tags(all: tags["tags"] ?? [], any: tags["tags-any"] ?? [], notAll: tags["not-tags"] ?? [], notAny: tags["not-tags-any"] ?? [])
            )
        }
    }

    static func value(_ text: String, _ type: ResourceKind.ColumnType) -> JSON {
        switch type {
        case .bool: .bool(["true", "1"].contains(text.lowercased()))
        case .int: Int64(text).map(JSON.int) ?? .string(text)
        default: text.isEmpty ? .string("") : .string(text)
        }
    }

    /// Runs the query, reverse pages included: `visible` adds the caller's visibility condition.
    func run(_ store: RecordStore, extraConditions: [RecordStore.Condition], in sql: any SQLDatabase) async throws -> [[String: JSON]] {
        var keys = sort
        if pageReverse { keys = keys.map { RecordStore.Sort(attribute: $0.attribute, ascending: !$0.ascending) } }
        if keys.isEmpty && pageReverse { keys = [RecordStore.Sort(attribute: kind.attribute("id")!, ascending: false)] }
        var markerRecord: [String: JSON]? = nil
        if let marker { markerRecord = try await store.find(marker, in: sql) }
        var rows = try await store.list(conditions + extraConditions, sort: keys, limit: limit, after: markerRecord, in: sql)
        if pageReverse { rows.reverse() }
        return rows
    }

    /// `<resources>_links` for a page of `items` (next when the page is full, previous after a marker).
    func links(_ request: Request, items: [[String: JSON]]) -> [JSON] {
        guard let limit else { return [] }
        let host = request.head.authority ?? "localhost"
        let base = "http://\(host)/v2.0/\(kind.path)"
        let kept = query.filter { !["limit", "marker", "page_reverse"].contains($0.0) }
        func href(_ marker: String, reverse: Bool) -> String {
            var q = kept + [("limit", String(limit)), ("marker", marker)]
            if reverse { q.append(("page_reverse", "True")) }
            return base + "?" + q.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
        }
        var out: [JSON] = []
        let full = items.count >= limit
        if pageReverse {
            if full, let first = items.first?["id"]?.stringValue { out.append(["rel": "previous", "href": .string(href(first, reverse: true))]) }
            if let last = items.last?["id"]?.stringValue { out.append(["rel": "next", "href": .string(href(last, reverse: false))]) }
        } else {
            if full, let last = items.last?["id"]?.stringValue { out.append(["rel": "next", "href": .string(href(last, reverse: false))]) }
            if marker != nil, let first = items.first?["id"]?.stringValue {
                out.append(["rel": "previous", "href": .string(href(first, reverse: true))])
            }
        }
        return out
    }

    func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? s
    }

    /// The list answer: `{"<plural>": […], "<plural>_links": […]}` (links only when paginated).
    func response(_ request: Request, views: [[String: JSON]]) -> Response {
        var body: [String: JSON] = [kind.plural: .array(views.map { .object(NetworkHTTP.project($0, fields)) })]
        let l = links(request, items: views)
        if !l.isEmpty { body[kind.plural + "_links"] = .array(l) }
        return .json(.object(body))
    }
}
