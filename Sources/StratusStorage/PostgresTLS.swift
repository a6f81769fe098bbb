import Foundation
import NIOSSL
import PostgresNIO
import StratusCore

extension DatabaseURL.PostgresTLS {
    /// What PostgresNIO does for this `sslmode`, as libpq: `disable` plaintext; `allow` and
    /// `prefer` TLS when the server offers it, unverified; `require` TLS, unverified (verified
    /// against `sslrootcert` when one is given, as libpq does); `verify-ca` the chain against
    /// `sslrootcert` (else the system's CAs); `verify-full` the chain and the host name.
    func clientTLS() throws(ConfigError) -> PostgresClient.Configuration.TLS {
        var config = TLSConfiguration.makeClientConfiguration()
        if let rootCert {
            guard FileManager.default.isReadableFile(atPath: rootCert) else {
                throw ConfigError(message: "sslrootcert \(rootCert) in the database URL cannot be read")
            }
            config.trustRoots = .file(rootCert)
        }
        switch mode {
        case .disable: return .disable
        case .allow, .prefer:
            config.certificateVerification = .none
            return .prefer(config)
        case .require:
            config.certificateVerification = rootCert == nil ? .none : .noHostnameVerification
            return .require(config)
        case .verifyCA:
            config.certificateVerification = .noHostnameVerification
            return .require(config)
        case .verifyFull:
            config.certificateVerification = .fullVerification
            return .require(config)
        }
    }
}
