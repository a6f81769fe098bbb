import HTTPTypes
import Hummingbird
import StratusCore

/// The version documents: `GET /` (300 Multiple Choices) and `GET /versions` (200), listing
/// exactly what glance 33's `versions.Controller` lists for a configuration without an image
/// cache or multiple stores (in its order).
struct VersionRoutes {
    let settings: ImageSettings

    /// glance's list for that configuration: (version, status).
    static let versions: [(String, String)] =
        [("2.15", "SUPPORTED"), ("2.9", "SUPPORTED"), ("2.17", "CURRENT")]
        + ["2.7", "2.6", "2.5", "2.4", "2.3", "2.2", "2.1", "2.0"].map { ($0, "SUPPORTED") }

    func add(to routes: inout RouteTable) {
        routes.get("/") { r, _ in document(r, status: .multipleChoices) }
        routes.get("/versions") { r, _ in document(r, status: .ok) }
    }

    func document(_ request: Request, status: HTTPResponse.Status) -> Response {
        var base = settings.publicEndpoint ?? "\(request.head.scheme ?? "http")://\(request.head.authority ?? "localhost")"
        while base.hasSuffix("/") { base.removeLast() }
        let list: [JSON] = Self.versions.map { v, s in
            ["id": .string("v" + v), "status": .string(s), "links": [["rel": "self", "href": .string(base + "/v2/")]]]
        }
        return .json(["versions": .array(list)], status: status)
    }
}

/// `/v2/schemas/…`: the JSON schema documents the clients build their arguments from.
struct SchemaRoutes {
    func add(to routes: inout RouteTable) {
        for (name, text) in SchemaDocuments.byName {
            routes.get("/v2/schemas/" + name) { _, _ in .json(text: text) }
        }
    }
}
