import HTTPTypes

/// The OpenStack header names read or written on every request, parsed once (building an
/// `HTTPField.Name` from a string validates it, which showed in the request path's profile).
extension HTTPField.Name {
    public static let xAuthToken = HTTPField.Name("X-Auth-Token")!
    public static let xSubjectToken = HTTPField.Name("X-Subject-Token")!
    public static let openStackRequestID = HTTPField.Name("x-openstack-request-id")!
    public static let xServiceToken = HTTPField.Name("X-Service-Token")!
    /// Sent by a token validator that enforces application credentials' access rules.
    public static let openStackIdentityAccessRules = HTTPField.Name("OpenStack-Identity-Access-Rules")!
}
