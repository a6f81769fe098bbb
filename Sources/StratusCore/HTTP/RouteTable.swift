import Foundation
import HTTPTypes
import Hummingbird

/// A service's route declarations, in the style of placement's `ROUTE_DECLARATIONS`.
///
/// Beyond what `Router` does, it answers 405 (not 404) for a known path with an unsupported
/// method, and serves HEAD for every GET route that has no HEAD of its own, as the Python
/// services (flask, webob) do.
public struct RouteTable {
    public typealias Handler = @Sendable (Request, StratusContext) async throws -> Response
    public let router: Router<StratusContext>
    private var methods: [String: Set<HTTPRequest.Method>] = [:]
    /// Each path's methods in declaration order (for `Allow`).
    private var declaredOrder: [String: [HTTPRequest.Method]] = [:]
    private var order: [String] = []
    private var getHandlers: [String: Handler] = [:]

    /// What a 405 says (placement: "The method specified is not allowed for this resource.").
    let methodNotAllowed: String

    public init(router: Router<StratusContext>, methodNotAllowed: String = "The method is not allowed for the requested URL.") {
        self.router = router
        self.methodNotAllowed = methodNotAllowed
    }

    public mutating func add(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        if methods[path] == nil { order.append(path) }
        if methods[path, default: []].insert(method).inserted { declaredOrder[path, default: []].append(method) }
        if method == .get { getHandlers[path] = handler }
        router.on(RouterPath(path), method: method) { request, context in try await handler(request, context) }
    }

    public mutating func get(_ path: String, _ handler: @escaping Handler) { add(.get, path, handler) }
    public mutating func post(_ path: String, _ handler: @escaping Handler) { add(.post, path, handler) }
    public mutating func put(_ path: String, _ handler: @escaping Handler) { add(.put, path, handler) }
    public mutating func patch(_ path: String, _ handler: @escaping Handler) { add(.patch, path, handler) }
    public mutating func delete(_ path: String, _ handler: @escaping Handler) { add(.delete, path, handler) }
    public mutating func head(_ path: String, _ handler: @escaping Handler) { add(.head, path, handler) }

    /// `GET /healthcheck` as oslo.middleware's healthcheck answers it: 200 `OK` (text/plain) while
    /// `probe` succeeds (a service passes a trivial database query), else 503 `FAILED`. A
    /// success is reused for a second, so a load balancer polling hard costs one query a second;
    /// a failure is reported as soon as the next probe sees it.
    public mutating func healthcheck(_ probe: @escaping @Sendable () async throws -> Void) {
        let recent = RecentSuccess(window: .seconds(1))
        get("/healthcheck") { _, context in
            do {
                if !recent.isFresh {
                    try await probe()
                    recent.record()
                }
                return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: .init(string: "OK")))
            } catch {
                recent.forget()
                context.logger.error("healthcheck failed: \(String(reflecting: error))")
                return Response(
                    status: .serviceUnavailable,
                    headers: [.contentType: "text/plain"],
                    body: .init(byteBuffer: .init(string: "FAILED"))
                )
            }
        }
    }

    /// Registers the implicit HEAD routes and the 405 answers. Call once, after the last `add`.
    public func finish() {
        let all: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete, .head]
        for path in order {
            let declared = methods[path]!
            if !declared.contains(.head), let get = getHandlers[path] {
                router.on(RouterPath(path), method: .head) { request, context in
                    let response = try await get(request, context)
                    return Response(status: response.status, headers: response.headers, body: .init())
                }
            }
            // 405 names the methods the path has (RFC 9110 `Allow`), in declaration order as placement does.
            let allow = declaredOrder[path]!.map(\.rawValue).joined(separator: ", ")
            let message = methodNotAllowed
            for method in all where !declared.contains(method) && !(method == .head && getHandlers[path] != nil) {
                router.on(RouterPath(path), method: method) { _, _ -> Response in
                    throw OpenStackError(
                        .methodNotAllowed,
                        message,
                        headers: [.allow: allow]
                    )
                }
            }
        }
    }
}

/// When a check last succeeded, shared by concurrent requests.
final class RecentSuccess: @unchecked Sendable {
    private let lock = NSLock()
    private var last: ContinuousClock.Instant?
    let window: Duration

    init(window: Duration) { self.window = window }

    var isFresh: Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let last else { return false }
        return ContinuousClock.now - last < window
    }

    func record() {
        lock.lock()
        last = ContinuousClock.now
        lock.unlock()
    }

    func forget() {
        lock.lock()
        last = nil
        lock.unlock()
    }
}
