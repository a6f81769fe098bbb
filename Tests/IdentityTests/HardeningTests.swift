import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import StratusCore
import Testing

@testable import Identity

@Suite("password rules")
struct PasswordRulesTests {
    @Test("NUL anywhere is refused; past 72 bytes is truncated, or refused when strict")
    func verdicts() {
        #expect(PasswordRules.check("secret", maxPasswordLength: 4096, strict: true) == .accepted)
        #expect(PasswordRules.check("\u{0}secret", maxPasswordLength: 4096, strict: false) == .containsNUL)
        #expect(PasswordRules.check("pw\u{0}", maxPasswordLength: 4096, strict: false) == .containsNUL)
        let seventyTwo = String(repeating: "a", count: 72)
        #expect(PasswordRules.check(seventyTwo, maxPasswordLength: 4096, strict: true) == .accepted)
        #expect(PasswordRules.check(seventyTwo + "b", maxPasswordLength: 4096, strict: false) == .truncated(bytes: 73))
        #expect(PasswordRules.check(seventyTwo + "b", maxPasswordLength: 4096, strict: true) == .tooLong(limit: 72))
        // Bytes, not characters: 37 two-byte characters are 74 bytes.
        #expect(PasswordRules.check(String(repeating: "é", count: 37), maxPasswordLength: 4096, strict: true) == .tooLong(limit: 72))
        #expect(PasswordRules.check("abcdef", maxPasswordLength: 5, strict: true) == .tooLong(limit: 5))
    }
}

@Suite("list bounds")
struct ListBoundsTests {
    @Test("a limit reads one row more and cuts to the limit, saying so")
    func limit() {
        let three = ListLimit(limit: 3)
        #expect(three.fetch == 4)
        #expect(three.apply([1, 2, 3]).rows == [1, 2, 3])
        #expect(three.apply([1, 2, 3]).truncated == false)
        #expect(three.apply([1, 2, 3, 4]).rows == [1, 2, 3])
        #expect(three.apply([1, 2, 3, 4]).truncated == true)
        #expect(ListLimit().fetch == nil)
        #expect(ListLimit().apply(Array(0..<50_000)).truncated == false)
        #expect(ListLimit.resolve(driver: nil, fallback: 7) == ListLimit(limit: 7))
        #expect(ListLimit.resolve(driver: 5, fallback: 7) == ListLimit(limit: 5))
        #expect(ListLimits().assignment.limit == 10_000)
    }

    @Test("a domain-scoped token sees only its domain, whatever domain it asks for")
    func listedDomain() {
        #expect(ListedDomain(filter: nil, tokenDomain: nil) == .all)
        #expect(ListedDomain(filter: "d1", tokenDomain: nil) == .only("d1"))
        #expect(ListedDomain(filter: nil, tokenDomain: "d2") == .only("d2"))
        #expect(ListedDomain(filter: "d2", tokenDomain: "d2") == .only("d2"))
        #expect(ListedDomain(filter: "d1", tokenDomain: "d2") == .nothing)
        #expect(ListedDomain(filter: "d1", tokenDomain: "d2").isEmpty)
        #expect(ListedDomain.all.domainID == nil)
    }
}

@Suite("inexact filters")
struct InexactFilterTests {
    @Test("keystone's six operators on one attribute; other keys are ignored")
    func parse() {
        let found = InexactFilter.parse([
            ("name__contains", "a"), ("name__icontains", "b"), ("name__startswith", "c"), ("name__istartswith", "d"),
            ("name__endswith", "e"), ("name__iendswith", "f"), ("name", "exact"), ("name__like", "x"), ("domain_id__contains", "y"),
        ])
        #expect(found.map(\.position) == [.contains, .contains, .startswith, .startswith, .endswith, .endswith])
        #expect(found.map(\.ignoreCase) == [false, true, false, true, false, true])
        #expect(found.map(\.value) == ["a", "b", "c", "d", "e", "f"])
        #expect(InexactFilter.parse([("domain_id__contains", "y")], attribute: "domain_id").count == 1)
    }

    @Test("the LIKE pattern escapes %, _ and the escape character; case is left to the database")
    func pattern() {
        #expect(InexactFilter(attribute: "name", position: .contains, ignoreCase: false, value: "50%_a!").likePattern == "%50!%!_a!!%")
        #expect(InexactFilter(attribute: "name", position: .startswith, ignoreCase: true, value: "AbC").likePattern == "AbC%")
        #expect(InexactFilter(attribute: "name", position: .endswith, ignoreCase: false, value: "a\\b").likePattern == "%a\\b")
    }
}

@Suite("user options")
struct UserOptionsTests {
    @Test("only ignore_lockout_failure_attempts, a boolean or null; null removes it")
    func rules() throws {
        #expect(try UserOptions.changes(["ignore_lockout_failure_attempts": true]).get() == ["ignore_lockout_failure_attempts": true])
        #expect(
            UserOptions.changes(["lock_password": true])
                == .failure(.init(field: "options", message: "Additional properties are not allowed ('lock_password' was unexpected)"))
        )
        #expect(
            UserOptions.changes(["ignore_lockout_failure_attempts": "yes"])
                == .failure(.init(field: "options/ignore_lockout_failure_attempts", message: "\"yes\" is not of type 'boolean', 'null'"))
        )
        #expect(UserOptions.changes([1, 2]) == .failure(.init(field: "options", message: "[1, 2] is not of type 'object'")))
        let set = UserOptions.apply(["ignore_lockout_failure_attempts": true], to: [:])
        #expect(UserOptions.ignoresLockout(set))
        #expect(UserOptions.apply(["ignore_lockout_failure_attempts": nil], to: set).isEmpty)
        #expect(!UserOptions.ignoresLockout(["ignore_lockout_failure_attempts": false]))
    }
}

@Suite("Identity hardening in process")
struct IdentityHardeningTests {
    func json(_ r: TestResponse) throws -> JSON { try JSON.parse(Array(r.body.readableBytesView)) }

    func login(_ client: any TestClientProtocol, _ user: String, _ password: JSON) async throws -> HTTPResponse.Status {
        let body: JSON = [
            "auth": [
                "identity": [
                    "methods": ["password"], "password": ["user": ["name": .string(user), "domain": ["id": "default"], "password": password]],
                ]
            ]
        ]
        return try await client.call(.post, "/v3/auth/tokens", token: nil, body: body.serialized()).status
    }

    @Test("a password with a NUL is refused with 400 naming the field, and cannot log in as its prefix")
    func nul() async throws {
        try await IdentityFixture.make().test { client in
            let admin = try await client.token(scope: adminProject)
            let refused = try await client.call(
                .post,
                "/v3/users",
                token: admin,
                body: (["user": ["name": "nul", "password": "\u{0}x"]] as JSON).serialized()
            )
            #expect(refused.status == .badRequest)
            #expect(try json(refused)["error"]?["message"]?.stringValue?.contains("'password'") == true)
            let none = try await client.call(.get, "/v3/users?name=nul", token: admin)
            #expect(try json(none)["users"]?.arrayValue?.isEmpty == true, "nothing was created")
            let bob = try await client.call(.post, "/v3/users", token: admin, body: #"{"user": {"name": "bob", "password": "pw3"}}"#)
            #expect(bob.status == .created)
            #expect(try await login(client, "bob", "pw3") == .created)
            // bcrypt stops at a NUL: without the check this logs in as "pw3".
            #expect(try await login(client, "bob", "pw3\u{0}anything") == .unauthorized)
            let id = try #require(try json(bob)["user"]?["id"]?.stringValue)
            let patch = try await client.call(.patch, "/v3/users/\(id)", token: admin, body: (["user": ["password": "a\u{0}"]] as JSON).serialized())
            #expect(patch.status == .badRequest)
            #expect(try await login(client, "bob", "pw3") == .created, "the refused update changed nothing")
        }
    }

    @Test("strict_password_check refuses a password bcrypt would truncate with keystone's 403; without it the password works")
    func strictLength() async throws {
        let long = String(repeating: "x", count: 80)
        try await IdentityFixture.make([("DEFAULT", "strict_password_check", "true")]).test { client in
            let admin = try await client.token(scope: adminProject)
            let refused = try await client.call(
                .post,
                "/v3/users",
                token: admin,
                body: (["user": ["name": "long", "password": .string(long)]] as JSON).serialized()
            )
            #expect(refused.status == .forbidden)
            #expect(try json(refused)["error"]?["message"]?.stringValue?.hasPrefix("The password length must be less than or equal to 72.") == true)
        }
        try await IdentityFixture.make().test { client in
            let admin = try await client.token(scope: adminProject)
            let made = try await client.call(
                .post,
                "/v3/users",
                token: admin,
                body: (["user": ["name": "long", "password": .string(long)]] as JSON).serialized()
            )
            #expect(made.status == .created)
            #expect(try await login(client, "long", .string(long)) == .created)
        }
    }

    @Test("keystone-manage bootstrap resetting the admin password revokes the admin's tokens")
    func bootstrapRevokes() async throws {
        let fixture = try await IdentityFixture.make()
        try await fixture.test { client in
            let before = try await client.token(scope: adminProject)
            #expect(try await client.call(.get, "/v3/users", token: before).status == .ok)
            try await Task.sleep(for: .milliseconds(5))
            try await fixture.service.bootstrap(IdentityBootstrap(password: "new-pw"))
            #expect(try await client.call(.get, "/v3/users", token: before).status == .unauthorized)
            let after = try await client.token(password: "new-pw", scope: adminProject)
            #expect(try await client.call(.get, "/v3/users", token: after).status == .ok)
            try await Task.sleep(for: .milliseconds(5))
            try await fixture.service.bootstrap(IdentityBootstrap(password: "new-pw"))
            #expect(
                try await client.call(.get, "/v3/users", token: after).status == .ok,
                "re-running bootstrap with the same password revokes nothing"
            )
        }
    }

    @Test("wrong passwords lock an ordinary user but not one with ignore_lockout_failure_attempts; other options are refused")
    func lockoutExemption() async throws {
        try await IdentityFixture.make([("security_compliance", "lockout_failure_attempts", "2")]).test { client in
            let admin = try await client.token(scope: adminProject)
            let svc = try await client.call(
                .post,
                "/v3/users",
                token: admin,
                body: #"{"user": {"name": "glance", "password": "svc-pw", "options": {"ignore_lockout_failure_attempts": true}}}"#
            )
            #expect(svc.status == .created)
            #expect(try json(svc)["user"]?["options"] == ["ignore_lockout_failure_attempts": true])
            #expect(
                try await client.call(.post, "/v3/users", token: admin, body: #"{"user": {"name": "carol", "password": "c-pw"}}"#).status == .created
            )
            for _ in 0..<3 {
                #expect(try await login(client, "glance", "wrong") == .unauthorized)
                #expect(try await login(client, "carol", "wrong") == .unauthorized)
            }
            #expect(try await login(client, "glance", "svc-pw") == .created, "the service user is not locked")
            #expect(try await login(client, "carol", "c-pw") == .unauthorized, "the ordinary user is")
            let odd = try await client.call(
                .post,
                "/v3/users",
                token: admin,
                body: #"{"user": {"name": "dave", "options": {"lock_password": true}}}"#
            )
            #expect(odd.status == .badRequest)
            #expect(try json(odd)["error"]?["message"]?.stringValue?.contains("'lock_password' was unexpected") == true)
            let dave = try await client.call(.get, "/v3/users?name=dave", token: admin)
            #expect(try json(dave)["users"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("a revocation made by another process ends a cached validation within seconds, whatever [cache] expiration_time says")
    func revocationStaleness() async throws {
        let fixture = try await IdentityFixture.make([("cache", "enabled", "true"), ("cache", "expiration_time", "600")])
        let other = try await IdentityService.open(config: fixture.config, logger: Logger(label: "other"))
        try await fixture.test { client in
            let admin = try await client.token(scope: adminProject)
            let user = try await client.token(scope: adminProject)
            #expect(try await other.validate(user).caller.userName == "admin", "the other process caches the validation")
            var headers = HTTPFields()
            headers[.xAuthToken] = admin
            headers[.xSubjectToken] = user
            let revoked = try await client.execute(uri: "/v3/auth/tokens", method: .delete, headers: headers) { $0.status }
            #expect(revoked == .noContent)
            try await Task.sleep(for: IdentityService.revocationRecheck + .milliseconds(300))
            await #expect(throws: IdentityError.self, "the revoked token no longer validates in the other process") {
                _ = try await other.validate(user)
            }
            #expect(try await other.validate(admin).caller.userName == "admin", "other tokens still validate")
        }
        await other.close()
    }

    @Test("a domain reader lists its domain's groups and a user's groups there, not another domain's (list_groups targets)")
    func domainReaderListsGroups() async throws {
        try await IdentityFixture.make().test { client in
            let admin = try await client.token(scope: adminProject)
            func id(_ r: TestResponse, _ entity: String) throws -> String { try #require(try json(r)[entity]?["id"]?.stringValue) }
            let reader = try await client.firstID("roles", named: "reader", token: admin)
            let adminID = try await client.firstID("users", named: "admin", token: admin)
            let d2 = try id(try await client.call(.post, "/v3/domains", token: admin, body: #"{"domain": {"name": "d2"}}"#), "domain")
            let here = try id(
                try await client.call(.post, "/v3/users", token: admin, body: #"{"user": {"name": "dr", "password": "dr-pw"}}"#),
                "user"
            )
            let there = try id(
                try await client.call(
                    .post,
                    "/v3/users",
                    token: admin,
                    body: #"{"user": {"name": "dr2", "password": "dr-pw", "domain_id": "\#(d2)"}}"#
                ),
                "user"
            )
            #expect(try await client.call(.put, "/v3/domains/default/users/\(here)/roles/\(reader)", token: admin).status == .noContent)
            #expect(try await client.call(.put, "/v3/domains/\(d2)/users/\(there)/roles/\(reader)", token: admin).status == .noContent)
            #expect(try await client.call(.post, "/v3/groups", token: admin, body: #"{"group": {"name": "ops"}}"#).status == .created)
            let mine = try await client.execute(
                uri: "/v3/auth/tokens",
                method: .post,
                body: ByteBuffer(
                    string:
                        #"{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "dr", "domain": {"id": "default"}, "password": "dr-pw"}}}, "scope": {"domain": {"id": "default"}}}}"#
                )
            ) { try #require($0.headers[.xSubjectToken]) }
            let groups = try await client.call(.get, "/v3/groups", token: mine)
            #expect(groups.status == .ok)
            #expect(try json(groups)["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["ops"])
            #expect(try await client.call(.get, "/v3/users/\(adminID)/groups", token: mine).status == .ok)
            let theirs = try await client.execute(
                uri: "/v3/auth/tokens",
                method: .post,
                body: ByteBuffer(
                    string:
                        #"{"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": "\#(there)", "password": "dr-pw"}}}, "scope": {"domain": {"id": "\#(d2)"}}}}"#
                )
            ) { try #require($0.headers[.xSubjectToken]) }
            #expect(try await client.call(.get, "/v3/users/\(adminID)/groups", token: theirs).status == .forbidden)
            // keystone 30: another domain's token asking for this domain lists its own domain only: nothing.
            let asked = try await client.call(.get, "/v3/groups?domain_id=default", token: theirs)
            #expect(asked.status == .ok)
            #expect(try json(asked)["groups"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("list_limit cuts users, projects, domains and roles with truncated: true; role assignments have their own bound")
    func listLimits() async throws {
        try await IdentityFixture.make([("DEFAULT", "list_limit", "2"), ("assignment", "list_limit", "1")]).test { client in
            let admin = try await client.token(scope: adminProject)
            for n in ["u1", "u2", "u3"] {
                #expect(try await client.call(.post, "/v3/users", token: admin, body: #"{"user": {"name": "\#(n)"}}"#).status == .created)
            }
            for (path, key) in [("/v3/users", "users"), ("/v3/roles", "roles")] {
                let body = try json(try await client.call(.get, path, token: admin))
                #expect(body[key]?.arrayValue?.count == 2, "\(path)")
                #expect(body["truncated"] == true, "\(path)")
            }
            let one = try json(try await client.call(.get, "/v3/users?name=u3", token: admin))
            #expect(one["users"]?.arrayValue?.count == 1)
            #expect(one["truncated"] == nil, "an uncut list says nothing")
            let assignments = try json(try await client.call(.get, "/v3/role_assignments", token: admin))
            #expect(assignments["role_assignments"]?.arrayValue?.count == 1)
            #expect(assignments["truncated"] == true)
            let effective = try json(try await client.call(.get, "/v3/role_assignments?effective", token: admin))
            #expect(effective["role_assignments"]?.arrayValue?.count == 1)
            #expect(effective["truncated"] == true)
        }
    }

    @Test("without a valid token every protected route is 401 whether or not the id it names exists")
    func noProbing() async throws {
        try await IdentityFixture.make().test { client in
            let admin = try await client.token(scope: adminProject)
            let adminID = try await client.firstID("users", named: "admin", token: admin)
            for token in [nil, "gAAAAAB-not-a-token"] {
                for path in ["/v3/users/\(adminID)", "/v3/users/no-such-user", "/v3/domains/default", "/v3/domains/nope", "/v3/projects/nope"] {
                    #expect(try await client.call(.get, path, token: token).status == .unauthorized, "\(path)")
                }
                #expect(
                    try await client.call(.post, "/v3/users", token: token, body: #"{"user": {"name": "x", "domain_id": "nope"}}"#).status
                        == .unauthorized
                )
            }
            #expect(try await client.call(.get, "/v3/users/no-such-user", token: admin).status == .notFound)
            #expect(try await client.call(.get, "/v3", token: nil).status == .ok)
        }
    }

    @Test("the routes open without a token")
    func openRoutes() {
        #expect(AuthenticateFirst.isOpen(.get, "/"))
        #expect(AuthenticateFirst.isOpen(.get, "/v3/"))
        #expect(AuthenticateFirst.isOpen(.head, "/healthcheck"))
        #expect(AuthenticateFirst.isOpen(.post, "/v3/auth/tokens"))
        #expect(AuthenticateFirst.isOpen(.post, "/v3/users/abc/password"))
        #expect(!AuthenticateFirst.isOpen(.get, "/v3/users/abc/password"))
        #expect(!AuthenticateFirst.isOpen(.post, "/v3/users"))
        #expect(!AuthenticateFirst.isOpen(.post, "/v3"))
        #expect(!AuthenticateFirst.isOpen(.get, "/v3/users/abc/groups"))
    }
}
