// swift-tools-version:6.1
import Foundation
import PackageDescription

/// Settings for Stratus's own targets (not dependencies): they stay warning-free.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .unsafeFlags(["-warnings-as-errors"]),
]

let package = Package(
    name: "stratus",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "stratus", targets: ["stratus"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"4.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        // Already built for PostgresNIO; named for `sslmode` (StratusStorage/DatabaseURL).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.25.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        .executableTarget(
            name: "stratus",
            dependencies: ["StratusCommands"],
            swiftSettings: strict
        ),
        .target(
            name: "StratusCore",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "StratusStorage",
            dependencies: [
                "StratusCore",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "StratusAuth",
            dependencies: [
                "StratusCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Identity",
            dependencies: [
                "StratusCore", "StratusStorage", "StratusAuth",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Placement",
            dependencies: [
                "StratusCore", "StratusStorage", "StratusAuth",
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Image",
            dependencies: [
                "StratusCore", "StratusStorage", "StratusAuth",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Networking",
            dependencies: [
                "StratusCore", "StratusStorage", "StratusAuth",
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Compute",
            dependencies: [
                "StratusCore", "StratusStorage", "StratusAuth",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "StratusCommands",
            dependencies: [
                "StratusCore", "StratusStorage", "StratusAuth", "Identity", "Placement", "Image", "Networking", "Compute",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StratusCoreTests",
            dependencies: ["StratusCore", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
        .testTarget(name: "StratusStorageTests", dependencies: ["StratusStorage"]),
        .testTarget(name: "StratusCommandsTests", dependencies: ["StratusCommands", "Identity", "StratusAuth"]),
        .testTarget(name: "StratusAuthTests", dependencies: ["StratusAuth"]),
        .testTarget(
            name: "PlacementTests",
            dependencies: ["Placement", "StratusStorage", "StratusAuth", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
        .testTarget(
            name: "ImageTests",
            dependencies: ["Image", "StratusStorage", "StratusAuth", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
        .testTarget(
            name: "NetworkingTests",
            dependencies: ["Networking", "StratusStorage", "StratusAuth", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
        .testTarget(
            name: "ComputeTests",
            dependencies: ["Compute", "StratusStorage", "StratusAuth", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
        .testTarget(
            name: "IdentityTests",
            dependencies: ["Identity", "StratusStorage", "StratusAuth", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
    ]
)

// The bare-Hummingbird baseline of `make bench`, built only when benchmarks are (as Hummingbird
// gates its own): `make test` and `make run` never compile it.
if ProcessInfo.processInfo.environment["STRATUS_BENCHMARKS"] != nil {
    package.products.append(.executable(name: "bare-hummingbird", targets: ["BareHummingbird"]))
    package.targets.append(
        .executableTarget(
            name: "BareHummingbird",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "Benchmarks/BareHummingbird"
        )
    )
}
