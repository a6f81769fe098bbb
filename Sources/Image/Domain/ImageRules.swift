import StratusCore

/// glance's rules for the image attributes a caller sets (create and JSON patch), with its
/// messages and statuses. Pure: the API layer loads the image, applies these and saves.
struct ImageRules {
    var diskFormats: [String]
    var containerFormats: [String]
    var propertyQuota = 128
    var tagQuota = 128

    /// Attributes the caller may never send (`Attribute 'x' is read-only.`, 403).
    static let disallowed = ["direct_url", "self", "file", "schema", "stores"]
    static let readOnly: Set<String> = [
        "created_at", "updated_at", "status", "checksum", "size", "virtual_size", "direct_url", "self", "file", "schema", "id",
        "os_hash_algo", "os_hash_value",
    ]
    static let reserved: Set<String> = ["location", "deleted", "deleted_at"]
    static let reservedNamespace = "os_glance"
    /// The attributes that are columns, not custom properties.
    static let base: Set<String> = [
        "checksum", "created_at", "container_format", "disk_format", "id", "min_disk", "min_ram", "name", "size", "virtual_size",
        "status", "tags", "owner", "updated_at", "visibility", "protected", "os_hidden",
    ]

    /// A refused request: status and glance's message.
    struct Refusal: Error, Equatable {
        enum Kind: Equatable { case badRequest, forbidden, conflict, tooLarge }
        var kind: Kind
        var message: String
    }

    static func schemaError(_ detail: String) -> Refusal {
        Refusal(kind: .badRequest, message: "Provided object does not match schema 'image': \(detail)")
    }

    /// The attributes a create body asks for, checked: the record's fields are set on `image`.
    func create(_ body: JSON, into image: inout ImageRecord, requestedID: inout String?) throws(Refusal) {
        guard let object = body.objectValue else { throw Self.schemaError("\(body.typeName) is not of type 'object'") }
        for key in Self.disallowed where object[key] != nil {
            throw Refusal(kind: .forbidden, message: "Attribute '\(key)' is read-only.")
        }
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "id":
                guard let s = value.stringValue, ImageRules.isUUID(s) else { throw Self.schemaError("'\(Self.show(value))' is not a 'uuid'") }
                requestedID = s
            case "os_hash_algo", "os_hash_value":
                continue  // glance ignores them on create
            case "status", "checksum", "size", "virtual_size", "created_at", "updated_at":
                throw Refusal(kind: .forbidden, message: "Attribute '\(key)' is read-only.")
            case "tags":
                image.tags = try tags(value)
            default:
                try set(key, value, on: &image, creating: true)
            }
        }
    }

    /// A tag list as the schema allows it (strings of at most 255 characters; duplicates dropped).
    func tags(_ value: JSON) throws(Refusal) -> [String] {
        guard let list = value.arrayValue else { throw Self.schemaError("\(Self.show(value)) is not of type 'array'") }
        var tags: [String] = []
        for t in list {
            guard let s = t.stringValue else { throw Self.schemaError("\(Self.show(t)) is not of type 'string'") }
            guard s.count <= 255 else { throw Self.schemaError("'\(s)' is too long") }
            if !tags.contains(s) { tags.append(s) }
        }
        if tagQuota >= 0, tags.count > tagQuota {
            throw Refusal(kind: .tooLarge, message: "Maximum number of tags exceeded. \(tags.count) tags given, \(tagQuota) allowed.")
        }
        return tags
    }

    /// Sets one attribute (a column or a custom property) as a create or a patch does.
    func set(_ key: String, _ value: JSON, on image: inout ImageRecord, creating: Bool = false) throws(Refusal) {
        switch key {
        case "name":
            if value.isNull {
                image.name = nil
            } else {
                guard let s = value.stringValue else { throw Self.schemaError("\(Self.show(value)) is not of type 'null', 'string'") }
                guard s.count <= 255 else { throw Self.schemaError("'\(s)' is too long") }
                image.name = s
            }
        case "visibility":
            guard let s = value.stringValue, let v = Visibility(rawValue: s) else {
                throw Self.schemaError("\(Self.show(value)) is not one of ['community', 'public', 'private', 'shared']")
            }
            image.visibility = v
        case "protected", "os_hidden":
            guard let b = value.boolValue else { throw Self.schemaError("\(Self.show(value)) is not of type 'boolean'") }
            if key == "protected" { image.protected = b } else { image.hidden = b }
        case "min_disk", "min_ram":
            guard case .int(let n) = value else { throw Self.schemaError("\(Self.show(value)) is not of type 'integer'") }
            guard n >= 0 else {
                throw Refusal(kind: .badRequest, message: "Invalid value '\(n)' for parameter '\(key)': Cannot be a negative value")
            }
            if key == "min_disk" { image.minDisk = n } else { image.minRam = n }
        case "disk_format", "container_format":
            let allowed = key == "disk_format" ? diskFormats : containerFormats
            let format: String?
            if value.isNull {
                format = nil
            } else {
                guard let s = value.stringValue, allowed.contains(s) else {
                    throw Self.schemaError(
                        "\(Self.show(value)) is not one of [None, \(allowed.map { "'\($0)'" }.joined(separator: ", "))]"
                    )
                }
                format = s
            }
            if !creating, ![.queued, .importing].contains(image.status) {
                throw Refusal(kind: .forbidden, message: "Attribute \(key) can be only replaced for a queued image.")
            }
            if key == "disk_format" { image.diskFormat = format } else { image.containerFormat = format }
        case "owner":
            if value.isNull {
                image.owner = nil
            } else {
                guard let s = value.stringValue else { throw Self.schemaError("\(Self.show(value)) is not of type 'null', 'string'") }
                guard s.count <= 255 else { throw Self.schemaError("'\(s)' is too long") }
                image.owner = s
            }
        default:
            guard key.count <= 255 else {
                throw Refusal(kind: .badRequest, message: "Custom property should not be greater than 255 characters.")
            }
            if Self.reserved.contains(key) || key.hasPrefix(Self.reservedNamespace) {
                throw Refusal(kind: .forbidden, message: "Attribute '\(key)' is reserved.")
            }
            guard let s = value.stringValue else { throw Self.schemaError("\(Self.show(value)) is not of type 'string'") }
            guard s.count <= 65535 else { throw Self.schemaError("'\(s.prefix(20))…' is too long") }
            image.properties[key] = s
            if propertyQuota >= 0, image.properties.count > propertyQuota {
                throw Refusal(kind: .tooLarge, message: "Attempted: \(image.properties.count), Maximum: \(propertyQuota)")
            }
        }
    }

    // MARK: - JSON patch

    /// One operation of a JSON patch, parsed.
    struct Change: Equatable {
        enum Op: String, CaseIterable { case add, remove, replace }
        var op: Op
        var path: [String]
        var value: JSON?
        /// 4 for the v2.0 patch media type (an `add` of an existing attribute is a conflict), else 10.
        var draft = 10
    }

    /// The two patch media types glance accepts, and the JSON-schema draft each implies.
    static let patchTypes = [
        "application/openstack-images-v2.0-json-patch": 4,
        "application/openstack-images-v2.1-json-patch": 10,
    ]

    /// Parses a patch body (`draft` 10: `{"op", "path", "value"}`; 4: `{"replace": path, "value"}`).
    func parsePatch(_ body: JSON, draft: Int) throws(Refusal) -> [Change] {
        guard let list = body.arrayValue else {
            throw Refusal(kind: .badRequest, message: "Request body must be a JSON array of operation objects.")
        }
        var changes: [Change] = []
        for raw in list {
            guard let object = raw.objectValue else { throw Refusal(kind: .badRequest, message: "Operations must be JSON objects.") }
            let op: Change.Op
            let pointer: String
            if draft == 10 {
                guard let name = object["op"] else {
                    throw Refusal(
                        kind: .badRequest,
                        message: "Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace."
                    )
                }
                guard let s = name.stringValue, let o = Change.Op(rawValue: s) else {
                    throw Refusal(
                        kind: .badRequest,
                        message: "Invalid operation: `\(Self.show(name))`. It must be one of the following: add, remove, replace."
                    )
                }
                op = o
                guard let p = object["path"] else { throw Refusal(kind: .badRequest, message: "Unable to find 'path' in JSON Schema change") }
                pointer = p.stringValue ?? Self.show(p)
            } else {
                let present = Change.Op.allCases.filter { object[$0.rawValue] != nil }
                guard present.count == 1 else {
                    throw Refusal(
                        kind: .badRequest,
                        message: present.isEmpty
                            ? "Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\"."
                            : "Operation objects must contain only one member named \"add\", \"remove\", or \"replace\"."
                    )
                }
                op = present[0]
                pointer = object[op.rawValue]?.stringValue ?? ""
            }
            let path = try Self.decodePointer(pointer)
            let depth = path.first == "locations" ? (op == .replace ? 1 : 2) : 1
            guard path.count == depth else {
                throw Refusal(kind: .badRequest, message: "Invalid JSON pointer for this resource: '/\(path.joined(separator: "/"))'")
            }
            var change = Change(op: op, path: path, value: nil, draft: draft)
            if op != .remove {
                guard let v = object["value"] else {
                    throw Refusal(kind: .badRequest, message: "Operation \"\(op.rawValue)\" requires a member named \"value\".")
                }
                change.value = v
            }
            let root = path[0]
            if Self.readOnly.contains(root) { throw Refusal(kind: .forbidden, message: "Attribute '\(root)' is read-only.") }
            if Self.reserved.contains(root) || root.hasPrefix(Self.reservedNamespace) {
                throw Refusal(kind: .forbidden, message: "Attribute '\(root)' is reserved.")
            }
            changes.append(change)
        }
        return changes
    }

    /// glance's limited JSON pointers.
    static func decodePointer(_ pointer: String) throws(Refusal) -> [String] {
        func bad(_ why: String) -> Refusal { Refusal(kind: .badRequest, message: "Pointer `\(pointer)` \(why)") }
        guard pointer.hasPrefix("/") else { throw bad("does not start with \"/\".") }
        let rest = pointer.dropFirst()
        if rest.replacingOccurrences(of: " ", with: "").contains("//") { throw bad("contains adjacent \"/\".") }
        if pointer.count > 1, pointer.hasSuffix("/") { throw bad("end with \"/\".") }
        if rest.trimmingCharacters(in: .whitespaces) == "/" { throw bad("does not contains valid token.") }
        let chars = Array(pointer)
        for (i, c) in chars.enumerated() where c == "~" {
            guard i + 1 < chars.count, chars[i + 1] == "0" || chars[i + 1] == "1" else {
                throw bad("contains \"~\" not part of a recognized escape sequence.")
            }
        }
        return rest.split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~").trimmingCharacters(in: .whitespaces)
        }
    }

    /// Applies parsed changes. `isAdmin` decides `owner`; `checkVisibility` enforces the
    /// publicize / communitize rules for a new visibility.
    func apply(
        _ changes: [Change],
        to image: inout ImageRecord,
        isAdmin: Bool,
        checkVisibility: (Visibility) throws -> Void
    ) throws {
        for change in changes {
            let root = change.path[0]
            if root == "locations" {
                throw Refusal(kind: .forbidden, message: "It's not allowed to update locations if locations are invisible.")
            }
            let isColumn = Self.base.contains(root)
            switch change.op {
            case .remove:
                if isColumn { throw Refusal(kind: .forbidden, message: "Property \(root) may not be removed.") }
                guard image.properties.removeValue(forKey: root) != nil else {
                    throw Refusal(kind: .conflict, message: "Property \(root) does not exist.")
                }
            case .replace, .add:
                let value = change.value ?? .null
                if change.op == .replace {
                    if root == "owner", !isAdmin { throw Refusal(kind: .forbidden, message: "Owner can't be updated by non admin.") }
                    if !isColumn, image.properties[root] == nil {
                        throw Refusal(kind: .conflict, message: "Property \(root) does not exist.")
                    }
                } else if root == "owner", !isAdmin {
                    throw Refusal(kind: .forbidden, message: "Owner can't be updated by non admin.")
                } else if change.draft == 4, isColumn || image.properties[root] != nil {
                    throw Refusal(kind: .conflict, message: "Property \(root) already present.")
                }
                if root == "visibility", let s = value.stringValue, let v = Visibility(rawValue: s) { try checkVisibility(v) }
                if root == "tags" {
                    image.tags = try tags(value)
                } else {
                    try set(root, value, on: &image)
                }
            }
        }
    }

    static func isUUID(_ s: String) -> Bool {
        let hex = s.replacingOccurrences(of: "-", with: "")
        guard hex.count == 32, hex.allSatisfy(\.isHexDigit) else { return false }
        return s.count == 32 || (s.count == 36 && Array(s)[8] == "-" && Array(s)[13] == "-" && Array(s)[18] == "-" && Array(s)[23] == "-")
    }

    /// A value as Python's repr shows it in jsonschema messages.
    static func show(_ value: JSON) -> String {
        switch value {
        case .string(let s): "'\(s)'"
        case .null: "None"
        case .bool(let b): b ? "True" : "False"
        default: value.serialized()
        }
    }
}
