import Testing

@testable import StratusCore

@Suite("Access rules")
struct AccessRuleTests {
    @Test("path templates: * and {name} are one segment, ** anything, the rest literal, the whole path")
    func templates() {
        let cases: [(String, String, Bool)] = [
            ("/v3/users/abc", "/v3/users/*", true),
            ("/v3/users/abc/def", "/v3/users/*", false),
            ("/v3/users/", "/v3/users/*", false),
            ("/v3/users/", "/v3/users/**", true),
            ("/v3/users/a/b/c", "/v3/users/**", true),
            ("/v3/users", "/v3/users/**", false),
            ("/v3/users/x", "/v3/users/{id}", true),
            ("/v3/users/x/y", "/v3/users/{id}", false),
            ("/v3/a", "/v3/a*", false),
            ("/v3/ab", "/v3/a*", true),
            ("/v3/x/", "/v3/x", false),
            ("/v3/x", "/v3/x/", false),
            ("/v2/images/1/file", "/v2/images/{image_id}/file", true),
            ("/v2/images/1/file", "/v2/images/*", false),
            ("/v3/usersXabc", "/v3/users.abc", false),  // a dot is a dot here (keystonemiddleware: any character)
            ("/v3/users/abc/application_credentials", "/v3/users/*/application_credentials/**", false),
        ]
        for (path, template, expected) in cases {
            #expect(AccessRule.pathMatches(path, template: template) == expected, "\(path) ~ \(template)")
        }
    }

    let rules = [AccessRule(id: "r1", service: "image", path: "/v2/images", method: "GET")]

    func permits(
        serviceType: String? = "image",
        method: String = "GET",
        path: String = "/v2/images",
        catalog: Set<String> = ["image"],
        serviceToken: Bool = false
    )
        -> Bool
    {
        AccessRule.permits(
            rules,
            serviceType: serviceType,
            method: method,
            path: path,
            catalogServiceTypes: catalog,
            hasValidServiceToken: serviceToken
        )
    }

    @Test("a request passes only with matching method, service and path, on a service in the token's catalog")
    func permitsRequests() {
        #expect(permits())
        #expect(permits(method: "POST") == false)
        #expect(permits(method: "get") == false)
        #expect(permits(path: "/v2/images/1") == false)
        #expect(permits(serviceType: "compute", catalog: ["compute", "image"]) == false)
        #expect(permits(serviceType: nil) == false, "a service that does not know its type refuses")
        #expect(permits(catalog: ["compute"]) == false, "a service missing from the token's catalog refuses")
        #expect(permits(method: "DELETE", serviceToken: true), "a valid service token lifts the rules")
        #expect(permits(catalog: [], serviceToken: true) == false, "but not the catalog check")
        // Identity always lets a restricted token validate itself
        #expect(
            AccessRule.permits(
                [],
                serviceType: "identity",
                method: "GET",
                path: "/v3/auth/tokens",
                catalogServiceTypes: [],
                hasValidServiceToken: false
            )
        )
        #expect(
            AccessRule.permits(
                [],
                serviceType: "identity",
                method: "HEAD",
                path: "/v3/auth/tokens",
                catalogServiceTypes: ["identity"],
                hasValidServiceToken: false
            ) == false
        )
    }
}
