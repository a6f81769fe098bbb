import HTTPTypes
import Hummingbird
import StratusCore

extension ImageRules.Refusal: OpenStackErrorConvertible {
    var openStackError: OpenStackError {
        switch kind {
        case .badRequest: .badRequest(message)
        case .forbidden: .forbidden(message)
        case .conflict: .conflict(message)
        case .tooLarge: OpenStackError(.contentTooLarge, message)
        }
    }
}

extension ImageFormatCheck.Refused: OpenStackErrorConvertible {
    var openStackError: OpenStackError { OpenStackError(.init(code: status), message) }
}

/// How an image is shown: glance's `ResponseSerializer._format_image`.
struct ImageView {
    var settings: ImageSettings

    func json(_ image: ImageRecord) -> JSON {
        var o: [String: JSON] = [:]
        for (k, v) in image.properties { o[k] = .string(v) }
        o["id"] = .string(image.id)
        o["name"] = .optional(image.name)
        o["disk_format"] = .optional(image.diskFormat)
        o["container_format"] = .optional(image.containerFormat)
        o["visibility"] = .string(image.visibility.rawValue)
        o["size"] = image.size.map(JSON.int) ?? .null
        o["virtual_size"] = image.virtualSize.map(JSON.int) ?? .null
        o["status"] = .string(image.status.rawValue)
        o["checksum"] = .optional(image.checksum)
        o["protected"] = .bool(image.protected)
        o["min_ram"] = .int(image.minRam)
        o["min_disk"] = .int(image.minDisk)
        o["owner"] = .optional(image.owner)
        o["os_hidden"] = .bool(image.hidden)
        o["os_hash_algo"] = .optional(image.hashAlgo)
        o["os_hash_value"] = .optional(image.hashValue)
        o["created_at"] = .string(Timestamp.render(image.createdAt))
        o["updated_at"] = .string(Timestamp.render(image.updatedAt))
        if settings.showLocations {
            o["locations"] = .array(image.location.map { [["url": .string($0), "metadata": [:]]] } ?? [])
        }
        if settings.showDirectURL, let location = image.location { o["direct_url"] = .string(location) }
        o["tags"] = .array(image.tags.map(JSON.string))
        o["self"] = .string("/v2/images/\(image.id)")
        o["file"] = .string("/v2/images/\(image.id)/file")
        o["schema"] = "/v2/schemas/image"
        return .object(o)
    }
}

extension Request {
    /// The request's content type without parameters, lower-cased.
    var mediaType: String? {
        headers[.contentType].map { $0.split(separator: ";")[0].trimmingCharacters(in: .whitespaces).lowercased() }
    }
}

/// glance's "not found" wording for an image.
func imageNotFound(_ id: String) -> OpenStackError { .notFound("No image found with ID \(id)") }
