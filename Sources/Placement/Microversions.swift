import StratusCore

/// Placement's microversions, 1.0 to 1.39 (openstack-placement 16). Each behaviour switches
/// exactly where the reference switches it; handlers test `ctx.version >= .v(1, n)`.
///
/// 1.1 provider aggregates · 1.2 custom resource classes · 1.3 `member_of` on provider lists ·
/// 1.4 `resources` filter · 1.5 DELETE all inventories · 1.6 traits · 1.7 PUT resource class
/// creates (201/204) · 1.8 allocations need project_id/user_id · 1.9 `/usages` · 1.10
/// allocation candidates · 1.11 `allocations` link · 1.12 dict-form allocations · 1.13 POST
/// /allocations · 1.14 nested providers (`parent_provider_uuid`, `root_provider_uuid`, `in_tree`) ·
/// 1.15 Last-Modified / Cache-Control · 1.16 candidate `limit` · 1.17 candidate `required`,
/// summary traits · 1.18 provider list `required` · 1.19 aggregate generations · 1.20 provider
/// create answers 200 with the provider · 1.21 candidate `member_of` · 1.22 forbidden traits ·
/// 1.23 error `code` · 1.24 repeated `member_of` · 1.25 granular groups, `group_policy` · 1.26
/// reserved may equal total · 1.27 summaries list every class · 1.28 consumer generations · 1.29
/// nested candidates, summary parent/root · 1.30 reshaper · 1.31 candidate `in_tree` · 1.32
/// forbidden aggregates · 1.33 named group suffixes · 1.34 `mappings` · 1.35 `root_required` ·
/// 1.36 `same_subtree`, resourceless groups · 1.37 reparenting · 1.38 consumer types · 1.39 `in:`
/// on required traits.
enum PlacementVersions {
    static let range = MicroversionRange(service: "placement", minimum: Microversion(1, 0), maximum: Microversion(1, 39))
}

extension StratusContext {
    /// The negotiated placement microversion (1.0 when the middleware did not run).
    var version: Microversion { microversion ?? Microversion(1, 0) }

    /// Whether the request's microversion is at least 1.`minor`.
    func atLeast(_ minor: Int) -> Bool { version >= Microversion(1, minor) }
}
