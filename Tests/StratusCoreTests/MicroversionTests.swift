import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import StratusCore

@Suite("Microversion negotiation")
struct MicroversionTests {
    let placement = MicroversionRange(service: "placement", minimum: Microversion(1, 0), maximum: Microversion(1, 39))
    let compute = MicroversionRange(
        service: "compute",
        minimum: Microversion(2, 1),
        maximum: Microversion(2, 104),
        legacyHeader: "X-OpenStack-Nova-API-Version"
    )

    func headers(_ pairs: (String, String)...) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in pairs { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return fields
    }

    @Test("versions order numerically: 2.10 is above 2.9")
    func ordering() {
        #expect(Microversion(2, 10) > Microversion(2, 9))
        #expect(Microversion("1.39") == Microversion(1, 39))
        #expect(Microversion("1.x") == nil)
        #expect(Microversion("1") == nil)
        #expect(Microversion("-1.2") == nil)
        #expect(Microversion("1.2.3") == nil)
    }

    @Test("no header gives the minimum; latest gives the maximum; the service's own entry is picked")
    func negotiation() throws {
        #expect(try placement.negotiate(headers()) == Microversion(1, 0))
        #expect(try placement.negotiate(headers(("OpenStack-API-Version", "placement latest"))) == Microversion(1, 39))
        #expect(try placement.negotiate(headers(("OpenStack-API-Version", "compute 2.5, placement 1.17"))) == Microversion(1, 17))
        #expect(try placement.negotiate(headers(("OpenStack-API-Version", "compute 2.5"))) == Microversion(1, 0))
    }

    @Test("nova's legacy header counts only when the standard one is absent")
    func legacy() throws {
        #expect(try compute.negotiate(headers(("X-OpenStack-Nova-API-Version", "2.60"))) == Microversion(2, 60))
        let both = headers(("OpenStack-API-Version", "compute 2.90"), ("X-OpenStack-Nova-API-Version", "2.60"))
        #expect(try compute.negotiate(both) == Microversion(2, 90))
        #expect(try placement.negotiate(headers(("X-OpenStack-Nova-API-Version", "1.5"))) == Microversion(1, 0))
    }

    @Test("outside the range is 406, a malformed value 400, both naming the version")
    func failures() {
        #expect(throws: MicroversionRange.Failure.unsupported(Microversion(1, 40), minimum: Microversion(1, 0), maximum: Microversion(1, 39))) {
            try placement.negotiate(headers(("OpenStack-API-Version", "placement 1.40")))
        }
        #expect(throws: MicroversionRange.Failure.malformed("1.a")) {
            try placement.negotiate(headers(("OpenStack-API-Version", "placement 1.a")))
        }
        let unsupported = MicroversionRange.Failure.unsupported(Microversion(3, 0), minimum: Microversion(2, 1), maximum: Microversion(2, 104))
        #expect(unsupported.openStackError.status == .notAcceptable)
        #expect(unsupported.openStackError.message.contains("3.0") && unsupported.openStackError.message.contains("2.104"))
        #expect(MicroversionRange.Failure.malformed("x").openStackError.status == .badRequest)
    }

    @Test("responses echo the version and Vary on the header(s)")
    func echo() {
        let fields = compute.responseHeaders(Microversion(2, 60))
        #expect(fields[MicroversionRange.header] == "compute 2.60")
        #expect(fields[HTTPField.Name("X-OpenStack-Nova-API-Version")!] == "2.60")
        #expect(fields[.vary] == "OpenStack-API-Version, X-OpenStack-Nova-API-Version")
        #expect(placement.responseHeaders(Microversion(1, 2))[.vary] == "OpenStack-API-Version")
    }

    @Test("the middleware puts the version on the context and echoes it on successes and errors")
    func middleware() async throws {
        let router = Router(context: StratusContext.self)
        router.add(middleware: OpenStackMiddleware(format: .placement, bodyLimit: 1024, logger: .init(label: "test")))
        router.add(middleware: MicroversionMiddleware(placement))
        router.get("/version") { _, ctx -> String in ctx.microversion?.description ?? "none" }
        router.get("/fail") { _, _ -> String in throw OpenStackError.notFound("nothing here") }
        let app = Application(router: router)
        try await app.test(.router) { client in
            try await client.execute(uri: "/version", method: .get, headers: headers(("OpenStack-API-Version", "placement 1.20"))) { r in
                #expect(r.status == .ok)
                #expect(String(buffer: r.body) == "1.20")
                #expect(r.headers[MicroversionRange.header] == "placement 1.20")
            }
            try await client.execute(uri: "/fail", method: .get, headers: headers(("OpenStack-API-Version", "placement latest"))) { r in
                #expect(r.status == .notFound)
                #expect(r.headers[MicroversionRange.header] == "placement 1.39")
                #expect(r.headers[.vary] == "OpenStack-API-Version")
            }
            try await client.execute(uri: "/version", method: .get, headers: headers(("OpenStack-API-Version", "placement 2.0"))) { r in
                #expect(r.status == .notAcceptable)
                #expect(String(buffer: r.body).contains("Version 2.0 is not supported"))
            }
        }
    }
}

@Suite("Paging and sorting parameters")
struct PageRequestTests {
    @Test("limit, marker and repeated sort_key/sort_dir pairs")
    func pairs() throws {
        let page = try PageRequest(
            query: [("limit", "5"), ("marker", "abc"), ("sort_key", "name"), ("sort_dir", "desc"), ("sort_key", "id")],
            sortable: ["name", "id"]
        )
        #expect(page.limit == 5 && page.marker == "abc")
        #expect(page.sort == [.init(key: "name", direction: .descending), .init(key: "id", direction: .descending)])
    }

    @Test("glance's sort=key:dir,key form")
    func glanceSort() throws {
        let page = try PageRequest(query: [("sort", "name:asc,created_at")], sortable: ["name", "created_at"], defaultDirection: .descending)
        #expect(page.sort == [.init(key: "name", direction: .ascending), .init(key: "created_at", direction: .descending)])
    }

    @Test("limit is clamped to the maximum")
    func clamp() throws {
        #expect(try PageRequest(query: [("limit", "5000")], sortable: [], maxLimit: 1000).limit == 1000)
    }

    @Test("a negative limit, an unknown sort key and a bad direction are 400s naming the parameter")
    func invalid() {
        #expect(throws: PageRequest.Invalid.self) { try PageRequest(query: [("limit", "-1")], sortable: []) }
        #expect(throws: PageRequest.Invalid.self) { try PageRequest(query: [("limit", "ten")], sortable: []) }
        do {
            _ = try PageRequest(query: [("sort_key", "password")], sortable: ["name"])
            Issue.record("an unknown sort key was accepted")
        } catch {
            #expect(error.parameter == "sort_key" && error.openStackError.status == .badRequest)
            #expect(error.openStackError.message.contains("sort_key"))
        }
        #expect(throws: PageRequest.Invalid.self) { try PageRequest(query: [("sort_key", "name"), ("sort_dir", "up")], sortable: ["name"]) }
    }
}

@Suite("nova fault names")
struct NovaFaultNameTests {
    @Test("nova's fault names for every status it names")
    func novaNames() {
        let expected: [Int: String] = [
            400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound", 405: "badMethod", 409: "conflictingRequest",
            413: "overLimit", 415: "badMediaType", 429: "overLimit", 500: "computeFault", 501: "notImplemented", 503: "serviceUnavailable",
        ]
        for (status, name) in expected { #expect(ErrorFormat.novaFaultName(status) == name, "\(status)") }
    }
}
