import StratusAuth

/// Placement's policy: the action names and placement 16's defaults verbatim (placement/policies),
/// with their scope types and the deprecated `role:admin` that `enforce_new_defaults = false` ORs in.
enum PlacementPolicy {
    static let listProviders = "placement:resource_providers:list"
    static let createProvider = "placement:resource_providers:create"
    static let showProvider = "placement:resource_providers:show"
    static let updateProvider = "placement:resource_providers:update"
    static let deleteProvider = "placement:resource_providers:delete"
    static let listInventories = "placement:resource_providers:inventories:list"
    static let createInventory = "placement:resource_providers:inventories:create"
    static let showInventory = "placement:resource_providers:inventories:show"
    static let updateInventory = "placement:resource_providers:inventories:update"
    static let deleteInventory = "placement:resource_providers:inventories:delete"
    static let listAggregates = "placement:resource_providers:aggregates:list"
    static let updateAggregates = "placement:resource_providers:aggregates:update"
    static let listProviderTraits = "placement:resource_providers:traits:list"
    static let updateProviderTraits = "placement:resource_providers:traits:update"
    static let deleteProviderTraits = "placement:resource_providers:traits:delete"
    static let providerUsages = "placement:resource_providers:usages"
    static let providerAllocations = "placement:resource_providers:allocations:list"
    static let listResourceClasses = "placement:resource_classes:list"
    static let createResourceClass = "placement:resource_classes:create"
    static let showResourceClass = "placement:resource_classes:show"
    static let updateResourceClass = "placement:resource_classes:update"
    static let deleteResourceClass = "placement:resource_classes:delete"
    static let listTraits = "placement:traits:list"
    static let showTrait = "placement:traits:show"
    static let updateTrait = "placement:traits:update"
    static let deleteTrait = "placement:traits:delete"
    static let manageAllocations = "placement:allocations:manage"
    static let listAllocations = "placement:allocations:list"
    static let updateAllocations = "placement:allocations:update"
    static let deleteAllocations = "placement:allocations:delete"
    static let listCandidates = "placement:allocation_candidates:list"
    static let totalUsages = "placement:usages"
    static let reshape = "placement:reshaper:reshape"

    static let adminOrService = "rule:admin_or_service_api"

    /// The defaults of placement 16.
    static let defaults: [PolicyDefault] =
        [
            PolicyDefault("admin_api", "role:admin", scopes: [.project]),
            PolicyDefault("service_api", "role:service", scopes: [.project], deprecated: "role:admin"),
            PolicyDefault("admin_or_service_api", "role:admin or role:service", scopes: [.project], deprecated: "role:admin"),
            PolicyDefault("project_reader_api", "role:reader and project_id:%(project_id)s", deprecated: "role:admin"),
            PolicyDefault(
                "admin_or_project_reader_or_service_api",
                "role:admin or rule:project_reader_api or role:service",
                scopes: [.project],
                deprecated: "role:admin"
            ),
            PolicyDefault(reshape, "rule:service_api", scopes: [.project]),
            PolicyDefault(totalUsages, "rule:admin_or_project_reader_or_service_api", scopes: [.project]),
        ]
        + [
            listProviders, createProvider, showProvider, updateProvider, deleteProvider,
            listInventories, createInventory, showInventory, updateInventory, deleteInventory,
            listAggregates, updateAggregates, listProviderTraits, updateProviderTraits, deleteProviderTraits,
            providerUsages, providerAllocations,
            listResourceClasses, createResourceClass, showResourceClass, updateResourceClass, deleteResourceClass,
            listTraits, showTrait, updateTrait, deleteTrait,
            manageAllocations, listAllocations, updateAllocations, deleteAllocations, listCandidates,
        ].map { PolicyDefault($0, adminOrService, scopes: [.project]) }
}
