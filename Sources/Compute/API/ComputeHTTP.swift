import Foundation
import Hummingbird
import StratusCore

/// What every compute route shares: the base URL links are built on, request bodies, links.
enum ComputeHTTP {
    /// `http://host:8774` as the client addressed it.
    /// nova's `verify_project_id`: a project Identity says does not exist (404, asked with the
    /// caller's token) is a 400; when Identity cannot tell (403, unreachable) the id is taken as given.
    static func verifyProject(_ project: String, service: ComputeService, _ ctx: StratusContext) async throws {
        let token = try ctx.requireCaller().token
        let segment = project.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_."))) ?? project
        guard let r = try? await service.clients.identity.send(.get, "/projects/\(segment)", onBehalfOf: token) else { return }
        if r.status == 404 { throw ComputeError.badRequest("Project ID \(project) is not a valid project.") }
    }

    static func base(_ request: Request) -> String {
        "\(request.head.scheme ?? "http")://\(request.head.authority ?? request.header("Host") ?? "localhost")"
    }

    /// nova's `self` and `bookmark` links of a resource (`servers/ID`).
    static func links(_ base: String, _ path: String) -> JSON {
        [["rel": "self", "href": .string("\(base)/v2.1/\(path)")], ["rel": "bookmark", "href": .string("\(base)/\(path)")]]
    }

    /// The body's `key` object; 400 as nova's schema words it when missing.
    static func body(_ request: Request, _ ctx: StratusContext, _ key: String, alsoAllowed: Set<String> = []) async throws -> [String: JSON] {
        let body = try await request.jsonBody(limit: ctx.bodyLimit)
        guard case .object(let outer) = body else {
            throw ComputeError.badRequest(
                "Invalid input for field/attribute request body. Value: \(ComputeError.pythonRepr(body)). is not of type 'object'"
            )
        }
        if let extra = outer.keys.sorted().first(where: { $0 != key && !alsoAllowed.contains($0) }) {
            throw ComputeError.badRequest("Additional properties are not allowed ('\(extra)' was unexpected)")
        }
        guard let inner = outer[key] else {
            throw ComputeError.badRequest("Invalid input for field/attribute \(key). Value: None. '\(key)' is a required property")
        }
        guard case .object(let o) = inner else {
            throw ComputeError.invalidField(key, value: inner, "\(ComputeError.pythonRepr(inner)) is not of type 'object'")
        }
        return o
    }

    /// `limit` and `marker` of a list request.
    static func page(_ request: Request) throws -> (limit: Int?, marker: String?) {
        var limit: Int? = nil
        if let text = request.query("limit") {
            guard let n = Int(text), n >= 0 else {
                throw ComputeError.badRequest("Invalid input for query parameters limit. Value: \(text). '\(text)' does not match '^[0-9]*$'")
            }
            limit = n
        }
        return (limit, request.query("marker"))
    }
}
