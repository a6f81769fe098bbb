import StratusCore

/// nova's microversions, 2.1 to 2.104 (nova 34). Handlers test `ctx.atLeast(n)` for 2.n.
enum ComputeVersions {
    static let minimum = Microversion(2, 1)
    static let maximum = Microversion(2, 104)
    static let range = MicroversionRange(service: "compute", minimum: minimum, maximum: maximum, legacyHeader: "X-OpenStack-Nova-API-Version")
}

extension StratusContext {
    /// The negotiated compute microversion (2.1 when none was negotiated).
    var computeVersion: Microversion { microversion ?? ComputeVersions.minimum }

    /// Whether the request's microversion is at least 2.`minor`.
    func atLeast(_ minor: Int) -> Bool { computeVersion >= Microversion(2, minor) }
}
