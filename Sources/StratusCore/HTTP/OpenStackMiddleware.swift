import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The outermost middleware of every service: assigns the request id, renders every error in
/// the service's own body shape, and logs one line per request (method, path, status, time,
/// request id). Never logs bodies, tokens or query strings.
public struct OpenStackMiddleware: RouterMiddleware {
    public typealias Context = StratusContext
    let format: ErrorFormat
    let bodyLimit: Int
    let logger: Logger

    public init(format: ErrorFormat, bodyLimit: Int, logger: Logger) {
        self.format = format
        self.bodyLimit = bodyLimit
        self.logger = logger
    }

    public func handle(
        _ request: Request,
        context: StratusContext,
        next: (Request, StratusContext) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        context.requestID = RequestID.next()
        context.bodyLimit = bodyLimit
        var logger = self.logger
        logger[metadataKey: "request_id"] = .string(context.requestID)
        context.logger = logger
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = render(error, request: request, context: context)
        }
        response.headers[.openStackRequestID] = context.requestID
        let elapsed = ContinuousClock.now - start
        let tenths = Int(elapsed.components.seconds) * 10_000 + Int(elapsed.components.attoseconds / 100_000_000_000_000)
        // Built without interpolating the method and status types (each a dynamic cast), with
        // the source given (swift-log otherwise derives it from the file id on every line).
        var line = request.method.rawValue
        line += " "
        line += request.uri.path
        line += " "
        line += String(response.status.code)
        line += " "
        line += String(tenths / 10)
        line += "."
        line += String(tenths % 10)
        line += "ms"
        context.logger.log(level: response.status.code >= 500 ? .error : .info, "\(line)", source: "StratusCore")
        return response
    }

    func render(_ error: any Error, request: Request, context: StratusContext) -> Response {
        let apiError: OpenStackError
        switch error {
        case let e as any OpenStackErrorConvertible:
            apiError = e.openStackError
        case let e as HTTPError:
            switch e.status {
            case .notFound: apiError = .notFound("The resource could not be found.")
            case .methodNotAllowed: apiError = .init(.methodNotAllowed, "The method is not allowed for the requested URL.")
            case .contentTooLarge: apiError = .init(.contentTooLarge, "Request is too large.")
            default: apiError = .init(e.status, e.body ?? e.status.reasonPhrase)
            }
        default:
            context.logger.error("unhandled error: \(String(reflecting: error))")
            apiError = .init(.internalServerError, "An unexpected error prevented the server from fulfilling your request.")
        }
        var headers = apiError.headers
        if apiError.status == .unauthorized, format == .identity, headers[.wwwAuthenticate] == nil {
            headers[.wwwAuthenticate] = "Keystone uri=\"\(request.head.scheme ?? "http")://\(request.head.authority ?? "localhost")\""
        }
        if request.method == .head {
            return .empty(apiError.status, headers: headers)
        }
        return .json(format.body(for: apiError, requestID: context.requestID), status: apiError.status, headers: headers)
    }
}
