import Hummingbird
import StratusCore

/// `/`, `/v3`: version discovery (keystone answers 300 Multiple Choices at the root); `/healthcheck`
/// (200 `OK` while the database answers, else 503).
struct VersionRoutes: Sendable {
    let service: IdentityService

    /// The identity API version this service implements.
    static let version = "v3.14"

    func add(to r: inout RouteTable) {
        r.get("/", versions)
        r.get("/v3", v3)
        r.healthcheck { try await service.db.ping() }
    }

    /// GET the API versions: 300 Multiple Choices, as keystone answers.
    @Sendable func versions(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        .json(["versions": ["values": [Self.json(req)]]], status: .multipleChoices)
    }

    /// GET the v3 version document: 200.
    @Sendable func v3(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        .json(["version": Self.json(req)])
    }

    /// The v3 entry of version discovery.
    static func json(_ req: Request) -> JSON {
        [
            "id": .string(version), "status": "stable", "updated": "2020-04-07T00:00:00Z",
            "links": [["rel": "self", "href": .string(req.baseURL + "/v3/")]],
            "media-types": [["base": "application/json", "type": "application/vnd.openstack.identity-v3+json"]],
        ]
    }
}
