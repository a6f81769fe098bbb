import Foundation
import ServiceLifecycle
import StratusAuth
import StratusCore

/// What the install guide has the operator do for each service, done by all-in-one through
/// Identity's API with the admin's credentials: the `service` project, a service user with the
/// `admin` role on it (password generated once, kept 0600 as DIR/<name>-password), the
/// catalog service, and its public, internal and admin endpoints (updated when the port
/// offset changed since the last start). Idempotent.
struct ServiceRegistrar: Sendable {
    let admin: PasswordCredentials
    let dataDir: String
    let region: String

    func register(_ modules: [any ServiceModule.Type], url: (any ServiceModule.Type) -> String) async throws {
        let session = KeystoneSession(credentials: admin)
        let identity = ServiceClient(
            settings: .init(serviceType: "identity", interfaces: ["public"], endpointOverride: admin.authURL + "/v3"),
            session: session
        )
        try await waitUntilListening(session)
        let project = try await ensure(
            identity,
            list: "/projects?name=service&domain_id=default",
            key: "projects",
            create: "/projects",
            body: ["project": ["name": "service", "domain_id": "default", "description": "Service Project"]]
        )
        let role = try await ensure(identity, list: "/roles?name=admin", key: "roles", create: nil, body: nil)
        if try await identity.send(.get, "/regions/\(region)").status == 404 {
            try expect(await identity.send(.post, "/regions", json: ["region": ["id": .string(region)]]), 201, "POST /regions")
        }
        for module in modules {
            let password = try StoredSecret.readOrCreate("\(dataDir)/\(module.serviceName)-password")
            let user = try await ensure(
                identity,
                list: "/users?name=\(module.serviceName)&domain_id=default",
                key: "users",
                create: "/users",
                body: ["user": ["name": .string(module.serviceName), "domain_id": "default", "password": .string(password)]]
            )
            // Anonymous wrong passwords must not lock the cloud's own service users.
            try await expect(
                identity.send(.patch, "/users/\(user)", json: ["user": ["options": ["ignore_lockout_failure_attempts": true]]]),
                200,
                "exempt \(module.serviceName) from lockout"
            )
            try await expect(identity.send(.put, "/projects/\(project)/users/\(user)/roles/\(role)"), 204, "grant admin to \(module.serviceName)")
            let service = try await ensure(
                identity,
                list: "/services?type=\(module.serviceType)",
                key: "services",
                create: "/services",
                body: ["service": ["name": .string(module.serviceName), "type": .string(module.serviceType)]]
            )
            for interface in ["public", "internal", "admin"] {
                try await ensureEndpoint(identity, service: service, interface: interface, url: url(module))
            }
        }
    }

    /// The id of the first entity a list returns, else of the one `create` makes.
    func ensure(_ identity: ServiceClient, list: String, key: String, create: String?, body: JSON?) async throws -> String {
        let found = try await expect(identity.send(.get, list), 200, "GET \(list)")
        if let id = found.json?[key]?.arrayValue?.first?["id"]?.stringValue { return id }
        guard let create, let body else { throw Terminal.fail("all-in-one: \(list) found nothing") }
        let made = try await expect(identity.send(.post, create, json: body), 201, "POST \(create)")
        guard let id = made.json?.objectValue?.values.first?["id"]?.stringValue else { throw Terminal.fail("all-in-one: POST \(create): no id") }
        return id
    }

    func ensureEndpoint(_ identity: ServiceClient, service: String, interface: String, url: String) async throws {
        let found = try await expect(identity.send(.get, "/endpoints?service_id=\(service)&interface=\(interface)"), 200, "GET /endpoints")
        if let existing = found.json?["endpoints"]?.arrayValue?.first, let id = existing["id"]?.stringValue {
            if existing["url"]?.stringValue != url {
                _ = try await expect(identity.send(.patch, "/endpoints/\(id)", json: ["endpoint": ["url": .string(url)]]), 200, "PATCH endpoint")
            }
            return
        }
        let body: JSON = [
            "endpoint": ["service_id": .string(service), "interface": .string(interface), "url": .string(url), "region_id": .string(region)]
        ]
        _ = try await expect(identity.send(.post, "/endpoints", json: body), 201, "POST /endpoints")
    }

    @discardableResult
    func expect(_ reply: ServiceClient.Reply, _ status: Int, _ what: String) throws -> ServiceClient.Reply {
        guard reply.status == status else {
            throw Terminal.fail("all-in-one: \(what) answered \(reply.status): \(String(decoding: reply.body.prefix(300), as: UTF8.self))")
        }
        return reply
    }

    /// Identity starts listening concurrently with this task; wait for it (10 s at most).
    func waitUntilListening(_ session: KeystoneSession) async throws {
        for attempt in 0..<200 {
            do {
                _ = try await session.token()
                return
            } catch  where attempt < 199 {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }
}

/// A task that runs once among a `ServiceGroup`'s services, then stays until shutdown so the
/// group does not take its return for a failure.
struct OneShot: Service {
    let action: @Sendable () async throws -> Void

    init(_ action: @escaping @Sendable () async throws -> Void) {
        self.action = action
    }

    func run() async throws {
        try await action()
        try? await gracefulShutdown()
    }
}
