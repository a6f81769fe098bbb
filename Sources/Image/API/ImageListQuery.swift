import Foundation
import HTTPTypes
import StratusCore

/// `GET /v2/images` query parameters as glance reads them (`RequestDeserializer.index` and the
/// database filters), into an `ImageQuery`. Unknown parameters filter on custom properties.
enum ImageListQuery {
    static let sortKeys = ["name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"]

    static func parse(_ items: [(String, String)], viewer: ImageQuery.Viewer, settings: ImageSettings) throws -> ImageQuery {
        var q = ImageQuery(viewer: viewer)
        q.limit = settings.defaultLimit
        var sortKeys: [String] = []
        var sortDirs: [String] = []
        var sortParam: String?
        func bad(_ m: String) -> OpenStackError { .badRequest(m) }
        func values(_ v: String) -> [String] {
            v.hasPrefix("in:") ? Self.splitIn(String(v.dropFirst(3))) : [v]
        }
        for (name, value) in items {
            switch name {
            case "limit":
                guard let n = Int(value) else { throw bad("limit param must be an integer") }
                guard n >= 0 else { throw bad("limit param must be positive") }
                q.limit = min(n, settings.maxLimit)
            case "marker": q.marker = value
            case "member_status":
                guard ["pending", "accepted", "rejected", "all"].contains(value) else { throw bad("Invalid status: \(value)") }
                q.memberStatus = value
            case "tag": q.tags.append(value.trimmingCharacters(in: .whitespaces))
            case "visibility":
                guard ["community", "public", "private", "shared", "all"].contains(value) else {
                    throw bad("Invalid visibility value: \(value)")
                }
                q.visibility = value
            case "changes-since": throw bad("The \"changes-since\" filter is no longer available on v2.")
            case "sort": sortParam = value
            case "sort_key": sortKeys.append(value.trimmingCharacters(in: .whitespaces))
            case "sort_dir": sortDirs.append(value.trimmingCharacters(in: .whitespaces))
            case "os_hidden":
                let v = value.lowercased()
                guard v == "true" || v == "false" else {
                    throw bad("Invalid value '\(value)' for 'os_hidden' filter. Valid values are 'true' or 'false'.")
                }
                q.hidden = v == "true"
            case "protected":
                guard value == "true" || value == "false" else {
                    throw bad("Invalid value '\(value)' for 'protected' filter. Valid values are 'true' or 'false'.")
                }
                q.protected = value == "true"
            case "id": q.ids = values(value)
            case "name": q.names = values(value)
            case "status": q.statuses = values(value)
            case "owner": q.owners = values(value)
            case "disk_format": q.diskFormats = values(value)
            case "container_format": q.containerFormats = values(value)
            case "size_min", "size_max":
                guard let n = Int64(value) else { throw bad("Unable to filter on a range with a non-numeric value.") }
                if name == "size_min" { q.sizeMin = n } else { q.sizeMax = n }
            case "created_at", "updated_at":
                let c = try comparison(value, field: name)
                if name == "created_at" { q.createdAt.append(c) } else { q.updatedAt.append(c) }
            default:
                q.properties.append((name, values(value)))
            }
        }
        if let sortParam {
            guard sortKeys.isEmpty, sortDirs.isEmpty else { throw bad("Old and new sorting syntax cannot be combined") }
            q.sort = []
            for item in sortParam.trimmingCharacters(in: .whitespaces).split(separator: ",", omittingEmptySubsequences: false) {
                let parts = item.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let key = try sortKey(parts[0].trimmingCharacters(in: .whitespaces))
                let dir = parts.count > 1 && !parts[1].isEmpty ? parts[1].trimmingCharacters(in: .whitespaces) : "desc"
                q.sort.append((key, try ascending(dir)))
            }
        } else if !sortKeys.isEmpty || !sortDirs.isEmpty {
            let keys = try (sortKeys.isEmpty ? ["created_at"] : sortKeys).map(sortKey)
            let dirs = try sortDirs.map(ascending)
            if dirs.count > 1, dirs.count != keys.count { throw bad("Number of sort dirs does not match the number of sort keys") }
            q.sort = keys.enumerated().map { i, k in (k, dirs.isEmpty ? false : dirs[min(i, dirs.count - 1)]) }
        }
        // A unique last key makes the order total, so markers resume exactly.
        if !q.sort.contains(where: { $0.key == "id" }) { q.sort.append(("id", q.sort.last?.ascending ?? false)) }
        return q
    }

    static func sortKey(_ key: String) throws -> String {
        guard sortKeys.contains(key) else {
            throw OpenStackError.badRequest("Invalid sort key: \(key). It must be one of the following: \(sortKeys.joined(separator: ", ")).")
        }
        return key
    }

    static func ascending(_ dir: String) throws -> Bool {
        guard dir == "asc" || dir == "desc" else { throw OpenStackError.badRequest("Invalid sort direction: \(dir)") }
        return dir == "asc"
    }

    /// `gt:2024-01-01T00:00:00Z` (operator optional: `eq`).
    static func comparison(_ value: String, field: String) throws -> ImageQuery.Comparison {
        var op = ImageQuery.Comparison.Op.eq
        var text = value
        // `op:time`: a time has its own colons, so an operator is a letters-only prefix.
        if let colon = value.firstIndex(of: ":"), value[..<colon].allSatisfy(\.isLetter) {
            guard let o = ImageQuery.Comparison.Op(rawValue: String(value[..<colon])) else {
                throw OpenStackError.badRequest("Unable to filter on a unknown operator.")
            }
            op = o
            text = String(value[value.index(after: colon)...])
        }
        guard let t = Timestamp.parse(text) else {
            throw OpenStackError.badRequest("Bad \"\(field)\" query filter format. Use ISO 8601 DateTime notation.")
        }
        return .init(op: op, value: t)
    }

    /// An `in:` list: comma-separated, values may be double-quoted to contain commas.
    static func splitIn(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        var quoted = false
        for c in text {
            if c == "\"" {
                quoted.toggle()
            } else if c == ",", !quoted {
                out.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        out.append(current)
        return out
    }
}
