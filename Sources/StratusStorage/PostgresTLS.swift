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
        switch try settings() {
        case nil: .disable
        case (let config, let required)?: required ? .require(config) : .prefer(config)
        }
    }

    /// The same for a single connection (`Database.open`'s first attempt).
    func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
        switch try settings() {
        case nil: .disable
        case (let config, let required)?:
            required ? .require(try NIOSSLContext(configuration: config)) : .prefer(try NIOSSLContext(configuration: config))
        }
    }

    /// The TLS configuration and whether TLS is required; nil for plaintext.
    private func settings() throws(ConfigError) -> (TLSConfiguration, required: Bool)? {
        var config = TLSConfiguration.makeClientConfiguration()
        if let rootCert {
            guard FileManager.default.isReadableFile(atPath: rootCert) else {
                throw ConfigError(message: "sslrootcert \(rootCert) in the database URL cannot be read")
            }
            config.trustRoots = .file(rootCert)
        }
        switch mode {
        case .disable: return nil
        case .allow, .prefer:
            config.certificateVerification = .none
            return (config, false)
        case .require:
            config.certificateVerification = rootCert == nil ? .none : .noHostnameVerification
            return (config, true)
        case .verifyCA:
            config.certificateVerification = .noHostnameVerification
            return (config, true)
        case .verifyFull:
            config.certificateVerification = .fullVerification
            return (config, true)
        }
    }
}
