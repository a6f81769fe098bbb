/// An application credential's access rule: the one kind of request (service type, method,
/// path template) a token from that credential may make. Checked by every service as
/// keystonemiddleware checks it, and by Identity for itself (service type `identity`).
public struct AccessRule: Sendable, Equatable, Hashable {
    public var id: String
    public var service: String
    public var path: String
    public var method: String

    public init(id: String, service: String, path: String, method: String) {
        self.id = id
        self.service = service
        self.path = path
        self.method = method
    }

    /// Whether `path` matches the template: `*` and `{name}` stand for one path segment, `**` for
    /// anything (slashes included), every other character for itself; the whole path must match.
    /// (keystonemiddleware leaves other regex characters unescaped, so its `.` matches any character;
    /// here a `.` is a dot.)
    public static func pathMatches(_ path: String, template: String) -> Bool {
        enum Piece: Equatable {
            case literal(Character)
            case segment
            case anything
        }
        var pieces: [Piece] = []
        var chars = Array(template)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            switch c {
            case "*":
                if chars.first == "*" {
                    chars = chars.dropFirst()
                    pieces.append(.anything)
                } else {
                    pieces.append(.segment)
                }
            case "{":
                if let close = chars.firstIndex(of: "}") {
                    chars = chars[chars.index(after: close)...]
                    pieces.append(.segment)
                }
            case "}": continue
            default: pieces.append(.literal(c))
            }
        }
        let text = Array(path)
        // matches(i, j): pieces[i...] match text[j...]
        var memo: [Int: Bool] = [:]
        func matches(_ i: Int, _ j: Int) -> Bool {
            let key = i * (text.count + 1) + j
            if let known = memo[key] { return known }
            let result: Bool
            if i == pieces.count {
                result = j == text.count
            } else {
                switch pieces[i] {
                case .literal(let c): result = j < text.count && text[j] == c && matches(i + 1, j + 1)
                case .segment:
                    // one or more characters, none a slash
                    var k = j
                    var found = false
                    while k < text.count && text[k] != "/" {
                        k += 1
                        if matches(i + 1, k) {
                            found = true
                            break
                        }
                    }
                    result = found
                case .anything:
                    result = (j...text.count).contains { matches(i + 1, $0) }
                }
            }
            memo[key] = result
            return result
        }
        return matches(0, 0)
    }

    /// Whether the caller behind an `X-Service-Token` lifts a restricted token's rules: a service
    /// (the `service` role) whose own token is not restricted by rules.
    public static func liftsRules(_ serviceCaller: Caller?) -> Bool {
        guard let serviceCaller else { return false }
        return serviceCaller.roles.contains("service") && serviceCaller.accessRules == nil
    }

    /// Whether a token restricted to `rules` may make this request of the service of type
    /// `serviceType` (nil: the service does not know its type, and refuses): keystonemiddleware's
    /// order — Identity's own token validation is always allowed; the service must be in the token's
    /// catalog; a valid service token lifts the rules; else a rule must match method, service and path.
    public static func permits(
        _ rules: [AccessRule],
        serviceType: String?,
        method: String,
        path: String,
        catalogServiceTypes: Set<String>,
        hasValidServiceToken: Bool
    ) -> Bool {
        guard let serviceType else { return false }
        if serviceType == "identity" && method == "GET" && path.hasSuffix("/v3/auth/tokens") { return true }
        guard catalogServiceTypes.contains(serviceType) else { return false }
        if hasValidServiceToken { return true }
        return rules.contains { $0.method == method && $0.service == serviceType && pathMatches(path, template: $0.path) }
    }
}
