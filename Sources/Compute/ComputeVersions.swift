import Hummingbird
import StratusCore

/// nova's microversions, 2.1 to 2.104 (nova 34). Handlers test `ctx.atLeast(n)` for 2.n.
enum ComputeVersions {
    static let minimum = Microversion(2, 1)
    static let maximum = Microversion(2, 104)
    static let range = MicroversionRange(service: "compute", minimum: minimum, maximum: maximum, legacyHeader: "X-OpenStack-Nova-API-Version")
}

extension StratusContext {
    /// The negotiated compute microversion (2.1 when none was negotiated).
    var computeVersion: Microversion { microversion ?? ComputeVersions.minimum }

    /// Whether the request's microversion is at least 2.`minor`.
    func atLeast(_ minor: Int) -> Bool { computeVersion >= Microversion(2, minor) }
}

/// A microversion header or a body nova cannot read, worded as nova words them (the 406 is the shared text).
struct ComputeVersionErrorMiddleware: RouterMiddleware {
    typealias Context = StratusContext

    func handle(_ request: Request, context: StratusContext, next: (Request, StratusContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch MicroversionRange.Failure.malformed(let value) {
            throw ComputeError.badRequest("API Version String \(value) is of invalid format. Must be of format MajorNum.MinorNum.")
        } catch let e as OpenStackError where e.status == .badRequest && e.message.hasPrefix("Malformed request body") {
            // nova's body parser says no more than this.
            throw ComputeError.badRequest("Malformed request body")
        }
    }
}
