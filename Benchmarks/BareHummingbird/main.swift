// The baseline of `make bench`: a bare Hummingbird app with one `GET /healthcheck` route that
// answers "OK", nothing else (no middleware, no logging). Built only with STRATUS_BENCHMARKS=1.
import Hummingbird

let port = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 8080
let router = Router()
router.get("/healthcheck") { _, _ in "OK" }
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
