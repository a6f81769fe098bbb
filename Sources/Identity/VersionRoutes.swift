import Hummingbird
import SQLKit
import StratusCore

/// `/`, `/v3`: version discovery (keystone answers 300 Multiple Choices at the root).
extension IdentityService {
    static let version = "v3.14"

    func versionJSON(_ req: Request) -> JSON {
        ["id": .string(IdentityService.version), "status": "stable", "updated": "2020-04-07T00:00:00Z",
         "links": [["rel": "self", "href": .string(req.baseURL + "/v3/")]],
         "media-types": [["base": "application/json", "type": "application/vnd.openstack.identity-v3+json"]]]
    }

    func addVersionRoutes(_ r: inout RouteTable) {
        r.get("/") { req, _ in .json(["versions": ["values": [self.versionJSON(req)]]], status: .multipleChoices) }
        r.get("/v3") { req, _ in .json(["version": self.versionJSON(req)]) }
        r.get("/healthcheck") { _, _ in
            _ = try await self.db.read { db in try await db.raw("SELECT 1 AS ok").first() }
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: .init(string: "OK")))
        }
    }
}
