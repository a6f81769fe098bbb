import HTTPTypes
import StratusCore

/// Neutron's errors: the `type` clients match on (neutron-lib's exception class names) and
/// neutron's message templates, rendered as `{"NeutronError": {"type", "message", "detail"}}`.
enum NetworkError {
    static func make(_ status: HTTPStatusCode, _ type: String, _ message: String) -> OpenStackError {
        OpenStackError(status.status, message, code: type)
    }

    static func notFound(_ kind: ResourceKind, _ id: String) -> OpenStackError {
        switch kind.singular {
        case "network": make(.notFound, "NetworkNotFound", "Network \(id) could not be found.")
        case "subnet": make(.notFound, "SubnetNotFound", "Subnet \(id) could not be found.")
        case "port": make(.notFound, "PortNotFound", "Port \(id) could not be found.")
        case "router": make(.notFound, "RouterNotFound", "Router \(id) could not be found")
        case "floatingip": make(.notFound, "FloatingIPNotFound", "Floating IP \(id) could not be found")
        case "security_group": make(.notFound, "SecurityGroupNotFound", "Security group \(id) does not exist")
        case "security_group_rule": make(.notFound, "SecurityGroupRuleNotFound", "Security group rule \(id) does not exist")
        case "agent": make(.notFound, "AgentNotFound", "Agent \(id) could not be found.")
        case "rbac_policy": make(.notFound, "RbacPolicyNotFound", "RBAC policy of type \(kind.singular) with ID \(id) not found")
        default: make(.notFound, "NotFound", "\(kind.singular) \(id) could not be found.")
        }
    }

    static func invalidInput(_ message: String) -> OpenStackError {
        make(.badRequest, "InvalidInput", "Invalid input for operation: \(message).")
    }

    /// An attribute's validator refused its value (neutron's API layer: webob's 400).
    static func attribute(_ name: String, _ reason: String) -> OpenStackError {
        let r = reason.hasSuffix(".") ? reason : reason + "."
        return make(.badRequest, "HTTPBadRequest", "Invalid input for \(name). Reason: \(r)")
    }

    static func badRequest(_ resource: String, _ message: String) -> OpenStackError {
        make(.badRequest, "BadRequest", "Bad \(resource) request: \(message).")
    }

    /// webob's 400 for a body attribute the resource does not have.
    static func unrecognized(_ names: [String]) -> OpenStackError {
        make(.badRequest, "HTTPBadRequest", "Unrecognized attribute(s) '\(names.joined(separator: ", "))'")
    }

    static func invalidBody(_ message: String) -> OpenStackError {
        make(.badRequest, "HTTPBadRequest", message)
    }

    static func policy(_ action: String) -> OpenStackError {
        make(.forbidden, "PolicyNotAuthorized", "(rule:\(action)) is disallowed by policy")
    }

    /// An attribute rule refused: neutron names the action's rule and the attribute's.
    static func policy(_ action: String, attribute rule: String) -> OpenStackError {
        make(.forbidden, "PolicyNotAuthorized", "(rule:\(action) and rule:\(rule)) is disallowed by policy")
    }

    static func networkInUse(_ id: String, ports: [String]) -> OpenStackError {
        make(
            .conflict,
            "NetworkInUse",
            "Unable to complete operation on network \(id). There are one or more ports still in use on the network, id for these ports is: \(ports.joined(separator: ", "))."
        )
    }

    static func subnetInUse(_ id: String, reason: String = "One or more ports have an IP allocation from this subnet") -> OpenStackError {
        make(.conflict, "SubnetInUse", "Unable to complete operation on subnet \(id): \(reason).")
    }

    static func ipAllocated(_ ip: String, subnet: String) -> OpenStackError {
        make(.conflict, "IpAddressAlreadyAllocated", "IP address \(ip) already allocated in subnet \(subnet)")
    }

    static func ipExhausted(network: String) -> OpenStackError {
        make(.conflict, "IpAddressGenerationFailure", "No more IP addresses available on network \(network).")
    }

    static func macInUse(_ mac: String, network: String) -> OpenStackError {
        make(.conflict, "MacAddressInUse", "Unable to complete operation for network \(network). The mac address \(mac) is in use.")
    }

    static func noNetworkAvailable() -> OpenStackError {
        make(.serviceUnavailable, "NoNetworkAvailable", "Unable to create the network. No project network is available for allocation.")
    }

    static func ruleExists(_ id: String) -> OpenStackError {
        make(.conflict, "SecurityGroupRuleExists", "Security group rule already exists. Rule id is \(id).")
    }

    static func overQuota(_ resources: [String]) -> OpenStackError {
        make(.conflict, "OverQuota", "Quota exceeded for resources: [\(resources.map { "'\($0)'" }.joined(separator: ", "))].")
    }

    static func inUse(_ kind: String, _ id: String, _ message: String) -> OpenStackError {
        make(.conflict, kind, message)
    }

    static func revisionMismatch(expected: Int64, current: Int64) -> OpenStackError {
        make(.preconditionFailed, "RevisionNumberConstraintFailed", "Constrained to \(expected), but current revision is \(current)")
    }

    static func conflict(_ message: String) -> OpenStackError {
        make(.conflict, "Conflict", message)
    }
}

/// The statuses neutron answers with, as HTTPTypes values.
enum HTTPStatusCode {
    case badRequest, forbidden, notFound, conflict, preconditionFailed, serviceUnavailable

    var status: HTTPResponse.Status {
        switch self {
        case .badRequest: .badRequest
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .preconditionFailed: .preconditionFailed
        case .serviceUnavailable: .serviceUnavailable
        }
    }
}
