import HTTPTypes
import Hummingbird

/// An API microversion, `MAJOR.MINOR` (placement 1.39, compute 2.104). Ordered numerically:
/// 2.10 is above 2.9.
public struct Microversion: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// Parses `X.Y` (digits only, no sign, no spaces inside); nil otherwise.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let major = Int(parts[0]), let minor = Int(parts[1])
        else { return nil }
        self.init(major, minor)
    }

    public var description: String { "\(major).\(minor)" }

    public static func < (a: Microversion, b: Microversion) -> Bool { (a.major, a.minor) < (b.major, b.minor) }
}

/// How a service negotiates microversions (microversion-parse's rules): the version a request
/// asks for comes from `OpenStack-API-Version: <service> X.Y` (several services may share one
/// header, comma-separated) or, for compute, nova's legacy `X-OpenStack-Nova-API-Version: X.Y`;
/// `latest` means the maximum; no header means the minimum; outside the range is 406; a
/// malformed value is 400. Responses echo the version and say `Vary` on the header(s).
public struct MicroversionRange: Sendable {
    /// The service name in the header (`placement`, `compute`).
    public let service: String
    public let minimum: Microversion
    public let maximum: Microversion
    /// nova's pre-standard header, honoured when the standard one is absent.
    public let legacyHeader: HTTPField.Name?
    /// The legacy header as nova spells it, for `Vary`.
    let legacyHeaderSpelling: String?

    public init(service: String, minimum: Microversion, maximum: Microversion, legacyHeader: String? = nil) {
        precondition(minimum <= maximum, "microversion range is empty")
        self.service = service
        self.minimum = minimum
        self.maximum = maximum
        self.legacyHeader = legacyHeader.flatMap { HTTPField.Name($0) }
        self.legacyHeaderSpelling = legacyHeader
    }

    /// A microversion header that could not be read or asks for a version outside the range.
    public enum Failure: OpenStackErrorConvertible, Equatable {
        case malformed(String)
        case unsupported(Microversion, minimum: Microversion, maximum: Microversion)

        public var openStackError: OpenStackError {
            switch self {
            case .malformed(let value):
                .init(.badRequest, "Invalid microversion: \(value). Version strings are MAJOR.MINOR or latest.")
            case .unsupported(let v, let minimum, let maximum):
                .init(.notAcceptable, "Version \(v) is not supported by the API. Minimum is \(minimum) and maximum is \(maximum).")
            }
        }
    }

    public static let header = HTTPField.Name("OpenStack-API-Version")!

    /// The version `headers` ask for, or the failure to report.
    public func negotiate(_ headers: HTTPFields) throws(Failure) -> Microversion {
        guard let requested = requestedValue(headers) else { return minimum }
        if requested.lowercased() == "latest" { return maximum }
        guard let version = Microversion(requested) else { throw .malformed(requested) }
        guard version >= minimum, version <= maximum else { throw .unsupported(version, minimum: minimum, maximum: maximum) }
        return version
    }

    /// The raw version text for this service, or nil when the request names none.
    func requestedValue(_ headers: HTTPFields) -> String? {
        for field in headers[values: MicroversionRange.header] {
            for entry in field.split(separator: ",") {
                let words = entry.split(separator: " ", omittingEmptySubsequences: true)
                if words.count == 2, words[0].lowercased() == service { return String(words[1]) }
            }
        }
        if let legacyHeader, let value = headers[legacyHeader] { return value.trimmingCharacters(in: .whitespaces) }
        return nil
    }

    /// The headers every response carries once a version was chosen.
    public func responseHeaders(_ version: Microversion) -> HTTPFields {
        var fields = HTTPFields()
        fields[MicroversionRange.header] = "\(service) \(version)"
        var vary = "OpenStack-API-Version"
        if let legacyHeader {
            fields[legacyHeader] = version.description
            vary += ", \(legacyHeaderSpelling ?? legacyHeader.canonicalName)"
        }
        fields[.vary] = vary
        return fields
    }
}

/// Negotiates the microversion of every request of a service, stores it in
/// `StratusContext.microversion`, and echoes it (with `Vary`) on the response, errors included.
public struct MicroversionMiddleware: RouterMiddleware {
    public typealias Context = StratusContext
    let range: MicroversionRange
    /// Paths answered without negotiating (nova's versions root carries no version headers).
    let exempt: Set<String>

    public init(_ range: MicroversionRange, exempt: Set<String> = []) {
        self.range = range
        self.exempt = exempt
    }

    public func handle(
        _ request: Request,
        context: StratusContext,
        next: (Request, StratusContext) async throws -> Response
    )
        async throws -> Response
    {
        if exempt.contains(request.uri.path) { return try await next(request, context) }
        var context = context
        let version = try range.negotiate(request.headers)
        context.microversion = version
        let echoed = range.responseHeaders(version)
        do {
            var response = try await next(request, context)
            response.headers.append(contentsOf: echoed)
            return response
        } catch let error as any OpenStackErrorConvertible {
            var rendered = error.openStackError
            rendered.headers.append(contentsOf: echoed)
            throw rendered
        }
    }
}
