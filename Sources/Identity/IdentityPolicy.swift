import StratusAuth

/// Keystone's policy (keystone 30, keystone/common/policies): action names as constants, and
/// the default rules verbatim with their scope types and deprecated check strings.
/// A policy.yaml written for keystone overrides them unchanged.
enum IdentityPolicy {
    // MARK: access_rule.py
    static let getAccessRule = "identity:get_access_rule"
    static let listAccessRules = "identity:list_access_rules"
    static let deleteAccessRule = "identity:delete_access_rule"

    // MARK: access_token.py
    static let authorizeRequestToken = "identity:authorize_request_token"
    static let getAccessToken = "identity:get_access_token"
    static let getAccessTokenRole = "identity:get_access_token_role"
    static let listAccessTokens = "identity:list_access_tokens"
    static let listAccessTokenRoles = "identity:list_access_token_roles"
    static let deleteAccessToken = "identity:delete_access_token"

    // MARK: application_credential.py
    static let getApplicationCredential = "identity:get_application_credential"
    static let listApplicationCredentials = "identity:list_application_credentials"
    static let createApplicationCredential = "identity:create_application_credential"
    static let deleteApplicationCredential = "identity:delete_application_credential"

    // MARK: auth.py
    static let getAuthCatalog = "identity:get_auth_catalog"
    static let getAuthProjects = "identity:get_auth_projects"
    static let getAuthDomains = "identity:get_auth_domains"
    static let getAuthSystem = "identity:get_auth_system"

    // MARK: consumer.py
    static let getConsumer = "identity:get_consumer"
    static let listConsumers = "identity:list_consumers"
    static let createConsumer = "identity:create_consumer"
    static let updateConsumer = "identity:update_consumer"
    static let deleteConsumer = "identity:delete_consumer"

    // MARK: credential.py
    static let getCredential = "identity:get_credential"
    static let listCredentials = "identity:list_credentials"
    static let createCredential = "identity:create_credential"
    static let updateCredential = "identity:update_credential"
    static let deleteCredential = "identity:delete_credential"

    // MARK: domain.py
    static let getDomain = "identity:get_domain"
    static let listDomains = "identity:list_domains"
    static let createDomain = "identity:create_domain"
    static let updateDomain = "identity:update_domain"
    static let deleteDomain = "identity:delete_domain"

    // MARK: domain_config.py
    static let createDomainConfig = "identity:create_domain_config"
    static let getDomainConfig = "identity:get_domain_config"
    static let getSecurityComplianceDomainConfig = "identity:get_security_compliance_domain_config"
    static let updateDomainConfig = "identity:update_domain_config"
    static let deleteDomainConfig = "identity:delete_domain_config"
    static let getDomainConfigDefault = "identity:get_domain_config_default"

    // MARK: ec2_credential.py
    static let ec2GetCredential = "identity:ec2_get_credential"
    static let ec2ListCredentials = "identity:ec2_list_credentials"
    static let ec2CreateCredential = "identity:ec2_create_credential"
    static let ec2DeleteCredential = "identity:ec2_delete_credential"

    // MARK: endpoint.py
    static let getEndpoint = "identity:get_endpoint"
    static let listEndpoints = "identity:list_endpoints"
    static let createEndpoint = "identity:create_endpoint"
    static let updateEndpoint = "identity:update_endpoint"
    static let deleteEndpoint = "identity:delete_endpoint"

    // MARK: endpoint_group.py
    static let createEndpointGroup = "identity:create_endpoint_group"
    static let listEndpointGroups = "identity:list_endpoint_groups"
    static let getEndpointGroup = "identity:get_endpoint_group"
    static let updateEndpointGroup = "identity:update_endpoint_group"
    static let deleteEndpointGroup = "identity:delete_endpoint_group"
    static let listProjectsAssociatedWithEndpointGroup = "identity:list_projects_associated_with_endpoint_group"
    static let listEndpointsAssociatedWithEndpointGroup = "identity:list_endpoints_associated_with_endpoint_group"
    static let getEndpointGroupInProject = "identity:get_endpoint_group_in_project"
    static let listEndpointGroupsForProject = "identity:list_endpoint_groups_for_project"
    static let addEndpointGroupToProject = "identity:add_endpoint_group_to_project"
    static let removeEndpointGroupFromProject = "identity:remove_endpoint_group_from_project"

    // MARK: grant.py
    static let checkGrant = "identity:check_grant"
    static let listGrants = "identity:list_grants"
    static let createGrant = "identity:create_grant"
    static let revokeGrant = "identity:revoke_grant"
    static let listSystemGrantsForUser = "identity:list_system_grants_for_user"
    static let checkSystemGrantForUser = "identity:check_system_grant_for_user"
    static let createSystemGrantForUser = "identity:create_system_grant_for_user"
    static let revokeSystemGrantForUser = "identity:revoke_system_grant_for_user"
    static let listSystemGrantsForGroup = "identity:list_system_grants_for_group"
    static let checkSystemGrantForGroup = "identity:check_system_grant_for_group"
    static let createSystemGrantForGroup = "identity:create_system_grant_for_group"
    static let revokeSystemGrantForGroup = "identity:revoke_system_grant_for_group"

    // MARK: group.py
    static let getGroup = "identity:get_group"
    static let listGroups = "identity:list_groups"
    static let listGroupsForUser = "identity:list_groups_for_user"
    static let createGroup = "identity:create_group"
    static let updateGroup = "identity:update_group"
    static let deleteGroup = "identity:delete_group"
    static let listUsersInGroup = "identity:list_users_in_group"
    static let removeUserFromGroup = "identity:remove_user_from_group"
    static let checkUserInGroup = "identity:check_user_in_group"
    static let addUserToGroup = "identity:add_user_to_group"

    // MARK: identity_provider.py
    static let createIdentityProvider = "identity:create_identity_provider"
    static let listIdentityProviders = "identity:list_identity_providers"
    static let getIdentityProvider = "identity:get_identity_provider"
    static let updateIdentityProvider = "identity:update_identity_provider"
    static let deleteIdentityProvider = "identity:delete_identity_provider"

    // MARK: implied_role.py
    static let getImpliedRole = "identity:get_implied_role"
    static let listImpliedRoles = "identity:list_implied_roles"
    static let createImpliedRole = "identity:create_implied_role"
    static let deleteImpliedRole = "identity:delete_implied_role"
    static let listRoleInferenceRules = "identity:list_role_inference_rules"
    static let checkImpliedRole = "identity:check_implied_role"

    // MARK: limit.py
    static let getLimitModel = "identity:get_limit_model"
    static let getLimit = "identity:get_limit"
    static let listLimits = "identity:list_limits"
    static let createLimits = "identity:create_limits"
    static let updateLimit = "identity:update_limit"
    static let deleteLimit = "identity:delete_limit"

    // MARK: mapping.py
    static let createMapping = "identity:create_mapping"
    static let getMapping = "identity:get_mapping"
    static let listMappings = "identity:list_mappings"
    static let deleteMapping = "identity:delete_mapping"
    static let updateMapping = "identity:update_mapping"

    // MARK: policy.py
    static let getPolicy = "identity:get_policy"
    static let listPolicies = "identity:list_policies"
    static let createPolicy = "identity:create_policy"
    static let updatePolicy = "identity:update_policy"
    static let deletePolicy = "identity:delete_policy"

    // MARK: policy_association.py
    static let createPolicyAssociationForEndpoint = "identity:create_policy_association_for_endpoint"
    static let checkPolicyAssociationForEndpoint = "identity:check_policy_association_for_endpoint"
    static let deletePolicyAssociationForEndpoint = "identity:delete_policy_association_for_endpoint"
    static let createPolicyAssociationForService = "identity:create_policy_association_for_service"
    static let checkPolicyAssociationForService = "identity:check_policy_association_for_service"
    static let deletePolicyAssociationForService = "identity:delete_policy_association_for_service"
    static let createPolicyAssociationForRegionAndService = "identity:create_policy_association_for_region_and_service"
    static let checkPolicyAssociationForRegionAndService = "identity:check_policy_association_for_region_and_service"
    static let deletePolicyAssociationForRegionAndService = "identity:delete_policy_association_for_region_and_service"
    static let getPolicyForEndpoint = "identity:get_policy_for_endpoint"
    static let listEndpointsForPolicy = "identity:list_endpoints_for_policy"

    // MARK: project.py
    static let getProject = "identity:get_project"
    static let listProjects = "identity:list_projects"
    static let listUserProjects = "identity:list_user_projects"
    static let createProject = "identity:create_project"
    static let updateProject = "identity:update_project"
    static let deleteProject = "identity:delete_project"
    static let listProjectTags = "identity:list_project_tags"
    static let getProjectTag = "identity:get_project_tag"
    static let updateProjectTags = "identity:update_project_tags"
    static let createProjectTag = "identity:create_project_tag"
    static let deleteProjectTags = "identity:delete_project_tags"
    static let deleteProjectTag = "identity:delete_project_tag"

    // MARK: project_endpoint.py
    static let listProjectsForEndpoint = "identity:list_projects_for_endpoint"
    static let addEndpointToProject = "identity:add_endpoint_to_project"
    static let checkEndpointInProject = "identity:check_endpoint_in_project"
    static let listEndpointsForProject = "identity:list_endpoints_for_project"
    static let removeEndpointFromProject = "identity:remove_endpoint_from_project"

    // MARK: protocol.py
    static let createProtocol = "identity:create_protocol"
    static let updateProtocol = "identity:update_protocol"
    static let getProtocol = "identity:get_protocol"
    static let listProtocols = "identity:list_protocols"
    static let deleteProtocol = "identity:delete_protocol"

    // MARK: region.py
    static let getRegion = "identity:get_region"
    static let listRegions = "identity:list_regions"
    static let createRegion = "identity:create_region"
    static let updateRegion = "identity:update_region"
    static let deleteRegion = "identity:delete_region"

    // MARK: registered_limit.py
    static let getRegisteredLimit = "identity:get_registered_limit"
    static let listRegisteredLimits = "identity:list_registered_limits"
    static let createRegisteredLimits = "identity:create_registered_limits"
    static let updateRegisteredLimit = "identity:update_registered_limit"
    static let deleteRegisteredLimit = "identity:delete_registered_limit"

    // MARK: revoke_event.py
    static let listRevokeEvents = "identity:list_revoke_events"

    // MARK: role.py
    static let getRole = "identity:get_role"
    static let listRoles = "identity:list_roles"
    static let createRole = "identity:create_role"
    static let updateRole = "identity:update_role"
    static let deleteRole = "identity:delete_role"
    static let getDomainRole = "identity:get_domain_role"
    static let listDomainRoles = "identity:list_domain_roles"
    static let createDomainRole = "identity:create_domain_role"
    static let updateDomainRole = "identity:update_domain_role"
    static let deleteDomainRole = "identity:delete_domain_role"

    // MARK: role_assignment.py
    static let listRoleAssignments = "identity:list_role_assignments"
    static let listRoleAssignmentsForTree = "identity:list_role_assignments_for_tree"

    // MARK: s3tokens.py
    static let s3tokensValidate = "identity:s3tokens_validate"

    // MARK: ec2tokens.py
    static let ec2tokensValidate = "identity:ec2tokens_validate"

    // MARK: service.py
    static let getService = "identity:get_service"
    static let listServices = "identity:list_services"
    static let createService = "identity:create_service"
    static let updateService = "identity:update_service"
    static let deleteService = "identity:delete_service"

    // MARK: service_provider.py
    static let createServiceProvider = "identity:create_service_provider"
    static let listServiceProviders = "identity:list_service_providers"
    static let getServiceProvider = "identity:get_service_provider"
    static let updateServiceProvider = "identity:update_service_provider"
    static let deleteServiceProvider = "identity:delete_service_provider"

    // MARK: token_revocation.py
    static let revocationList = "identity:revocation_list"

    // MARK: token.py
    static let checkToken = "identity:check_token"
    static let validateToken = "identity:validate_token"
    static let revokeToken = "identity:revoke_token"

    // MARK: trust.py
    static let createTrust = "identity:create_trust"
    static let listTrusts = "identity:list_trusts"
    static let listTrustsForTrustor = "identity:list_trusts_for_trustor"
    static let listTrustsForTrustee = "identity:list_trusts_for_trustee"
    static let listRolesForTrust = "identity:list_roles_for_trust"
    static let getRoleForTrust = "identity:get_role_for_trust"
    static let deleteTrust = "identity:delete_trust"
    static let getTrust = "identity:get_trust"

    // MARK: user.py
    static let getUser = "identity:get_user"
    static let listUsers = "identity:list_users"
    static let listProjectsForUser = "identity:list_projects_for_user"
    static let listDomainsForUser = "identity:list_domains_for_user"
    static let createUser = "identity:create_user"
    static let updateUser = "identity:update_user"
    static let deleteUser = "identity:delete_user"
    static let revokeTokensForUser = "identity:revoke_tokens_for_user"

    /// Rules of keystone 30 whose API Stratus does not serve yet (trusts, OS-INHERIT routes, OAuth1,
    /// federation, policies, limits, …): listed so the policy test knows every other rule is enforced.
    static let notRouted: [String] = [
        authorizeRequestToken,
        getAccessToken,
        getAccessTokenRole,
        listAccessTokens,
        listAccessTokenRoles,
        deleteAccessToken,
        getConsumer,
        listConsumers,
        createConsumer,
        updateConsumer,
        deleteConsumer,
        createDomainConfig,
        getDomainConfig,
        getSecurityComplianceDomainConfig,
        updateDomainConfig,
        deleteDomainConfig,
        getDomainConfigDefault,
        createEndpointGroup,
        listEndpointGroups,
        getEndpointGroup,
        updateEndpointGroup,
        deleteEndpointGroup,
        listProjectsAssociatedWithEndpointGroup,
        listEndpointsAssociatedWithEndpointGroup,
        getEndpointGroupInProject,
        listEndpointGroupsForProject,
        addEndpointGroupToProject,
        removeEndpointGroupFromProject,
        createIdentityProvider,
        listIdentityProviders,
        getIdentityProvider,
        updateIdentityProvider,
        deleteIdentityProvider,
        getLimitModel,
        getLimit,
        listLimits,
        createLimits,
        updateLimit,
        deleteLimit,
        createMapping,
        getMapping,
        listMappings,
        deleteMapping,
        updateMapping,
        getPolicy,
        listPolicies,
        createPolicy,
        updatePolicy,
        deletePolicy,
        createPolicyAssociationForEndpoint,
        checkPolicyAssociationForEndpoint,
        deletePolicyAssociationForEndpoint,
        createPolicyAssociationForService,
        checkPolicyAssociationForService,
        deletePolicyAssociationForService,
        createPolicyAssociationForRegionAndService,
        checkPolicyAssociationForRegionAndService,
        deletePolicyAssociationForRegionAndService,
        getPolicyForEndpoint,
        listEndpointsForPolicy,
        listProjectsForEndpoint,
        addEndpointToProject,
        checkEndpointInProject,
        listEndpointsForProject,
        removeEndpointFromProject,
        createProtocol,
        updateProtocol,
        getProtocol,
        listProtocols,
        deleteProtocol,
        getRegisteredLimit,
        listRegisteredLimits,
        createRegisteredLimits,
        updateRegisteredLimit,
        deleteRegisteredLimit,
        createServiceProvider,
        listServiceProviders,
        getServiceProvider,
        updateServiceProvider,
        deleteServiceProvider,
        revocationList,
        listProjectsForUser,
        listDomainsForUser,
        revokeTokensForUser,
    ]

    /// Every default rule, in keystone's order.
    static let defaults: [PolicyDefault] = [
        // MARK: base.py
        PolicyDefault("admin_required", "role:admin or is_admin:1"),
        PolicyDefault("service_role", "role:service"),
        PolicyDefault("service_or_admin", "rule:admin_required or rule:service_role"),
        PolicyDefault("owner", "user_id:%(user_id)s"),
        PolicyDefault("admin_or_owner", "rule:admin_required or rule:owner"),
        PolicyDefault("token_subject", "user_id:%(target.token.user_id)s"),
        PolicyDefault("admin_or_token_subject", "rule:admin_required or rule:token_subject"),
        PolicyDefault("service_admin_or_token_subject", "rule:service_or_admin or rule:token_subject"),
        PolicyDefault(
            "domain_managed_target_role",
            "'manager':%(target.role.name)s or 'member':%(target.role.name)s or 'reader':%(target.role.name)s"
        ),

        // MARK: access_rule.py
        PolicyDefault(getAccessRule, "(role:reader and system_scope:all) or user_id:%(target.user.id)s", scopes: [.system, .project]),
        PolicyDefault(listAccessRules, "(role:reader and system_scope:all) or user_id:%(target.user.id)s", scopes: [.system, .project]),
        PolicyDefault(deleteAccessRule, "(role:admin and system_scope:all) or user_id:%(target.user.id)s", scopes: [.system, .project]),

        // MARK: access_token.py
        PolicyDefault(authorizeRequestToken, "rule:admin_required", scopes: [.project]),
        PolicyDefault(getAccessToken, "rule:admin_required", scopes: [.project]),
        PolicyDefault(getAccessTokenRole, "rule:admin_required", scopes: [.project]),
        PolicyDefault(listAccessTokens, "rule:admin_required", scopes: [.project]),
        PolicyDefault(listAccessTokenRoles, "rule:admin_required", scopes: [.project]),
        PolicyDefault(deleteAccessToken, "rule:admin_required", scopes: [.project]),

        // MARK: application_credential.py
        PolicyDefault(
            getApplicationCredential,
            "(rule:admin_required) or (role:reader and system_scope:all) or rule:owner",
            scopes: [.system, .project],
            deprecated: "rule:admin_or_owner"
        ),
        PolicyDefault(
            listApplicationCredentials,
            "(rule:admin_required) or (role:reader and system_scope:all) or rule:owner",
            scopes: [.system, .project],
            deprecated: "rule:admin_or_owner"
        ),
        PolicyDefault(createApplicationCredential, "user_id:%(user_id)s", scopes: [.project]),
        PolicyDefault(deleteApplicationCredential, "rule:admin_or_owner", scopes: [.system, .project], deprecated: "rule:admin_or_owner"),

        // MARK: auth.py
        PolicyDefault(getAuthCatalog, ""),
        PolicyDefault(getAuthProjects, ""),
        PolicyDefault(getAuthDomains, ""),
        PolicyDefault(getAuthSystem, ""),

        // MARK: consumer.py
        PolicyDefault(
            getConsumer,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listConsumers,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(createConsumer, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(updateConsumer, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(deleteConsumer, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),

        // MARK: credential.py
        PolicyDefault(
            getCredential,
            "(rule:admin_required) or (role:reader and system_scope:all) or user_id:%(target.credential.user_id)s",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listCredentials,
            "(rule:admin_required) or (role:reader and system_scope:all) or user_id:%(target.credential.user_id)s",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            createCredential,
            "(rule:admin_required) or user_id:%(target.credential.user_id)s",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            updateCredential,
            "(rule:admin_required) or user_id:%(target.credential.user_id)s",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            deleteCredential,
            "(rule:admin_required) or user_id:%(target.credential.user_id)s",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),

        // MARK: domain.py
        PolicyDefault(
            getDomain,
            "rule:admin_required or (role:reader and system_scope:all) or token.domain.id:%(target.domain.id)s or token.project.domain.id:%(target.domain.id)s",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required or token.project.domain.id:%(target.domain.id)s"
        ),
        PolicyDefault(
            listDomains,
            "rule:admin_required or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain.id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(createDomain, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(updateDomain, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(deleteDomain, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),

        // MARK: domain_config.py
        PolicyDefault(createDomainConfig, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(
            getDomainConfig,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(getSecurityComplianceDomainConfig, "", scopes: [.system, .domain, .project]),
        PolicyDefault(updateDomainConfig, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(deleteDomainConfig, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(
            getDomainConfigDefault,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),

        // MARK: ec2_credential.py
        PolicyDefault(
            ec2GetCredential,
            "(rule:admin_required) or (role:reader and system_scope:all) or user_id:%(target.credential.user_id)s",
            scopes: [.system, .project],
            deprecated: "rule:admin_required or (rule:owner and user_id:%(target.credential.user_id)s)"
        ),
        PolicyDefault(
            ec2ListCredentials,
            "(rule:admin_required) or (role:reader and system_scope:all) or rule:owner",
            scopes: [.system, .project],
            deprecated: "rule:admin_or_owner"
        ),
        PolicyDefault(
            ec2CreateCredential,
            "(rule:admin_required) or (role:member and user_id:%(target.credential.user_id)s)",
            scopes: [.system, .project],
            deprecated: "rule:admin_or_owner"
        ),
        PolicyDefault(
            ec2DeleteCredential,
            "(rule:admin_required) or (role:member and user_id:%(target.credential.user_id)s)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required or (rule:owner and user_id:%(target.credential.user_id)s)"
        ),

        // MARK: endpoint.py
        PolicyDefault(
            getEndpoint,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listEndpoints,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(createEndpoint, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(updateEndpoint, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(deleteEndpoint, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),

        // MARK: endpoint_group.py
        PolicyDefault(createEndpointGroup, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(
            listEndpointGroups,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            getEndpointGroup,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(updateEndpointGroup, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(deleteEndpointGroup, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(
            listProjectsAssociatedWithEndpointGroup,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listEndpointsAssociatedWithEndpointGroup,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            getEndpointGroupInProject,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listEndpointGroupsForProject,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(addEndpointGroupToProject, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(removeEndpointGroupFromProject, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),

        // MARK: grant.py
        PolicyDefault(
            checkGrant,
            "(rule:admin_required) or ((role:reader and system_scope:all) or ((role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s))",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listGrants,
            "(rule:admin_required) or ((role:reader and system_scope:all) or (role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s))",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            createGrant,
            "(rule:admin_required) or ((role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s) or ((role:manager and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:manager and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and rule:domain_managed_target_role",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            revokeGrant,
            "(rule:admin_required) or ((role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s) or ((role:manager and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:manager and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and rule:domain_managed_target_role",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listSystemGrantsForUser,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            checkSystemGrantForUser,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(createSystemGrantForUser, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(revokeSystemGrantForUser, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(
            listSystemGrantsForGroup,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            checkSystemGrantForGroup,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(createSystemGrantForGroup, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(revokeSystemGrantForGroup, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),

        // MARK: group.py
        PolicyDefault(
            getGroup,
            "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.group.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listGroups,
            "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.group.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listGroupsForUser,
            "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.user.domain_id)s) or user_id:%(user_id)s",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_or_owner"
        ),
        PolicyDefault(
            createGroup,
            "(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            updateGroup,
            "(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            deleteGroup,
            "(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listUsersInGroup,
            "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.group.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            removeUserFromGroup,
            "(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            checkUserInGroup,
            "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            addUserToGroup,
            "(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),

        // MARK: identity_provider.py
        PolicyDefault(createIdentityProvider, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(
            listIdentityProviders,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            getIdentityProvider,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(updateIdentityProvider, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(deleteIdentityProvider, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),

        // MARK: implied_role.py
        PolicyDefault(
            getImpliedRole,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listImpliedRoles,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(createImpliedRole, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(deleteImpliedRole, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(
            listRoleInferenceRules,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            checkImpliedRole,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),

        // MARK: limit.py
        PolicyDefault(getLimitModel, "", scopes: [.system, .domain, .project]),
        PolicyDefault(
            getLimit,
            "rule:admin_required or (role:reader and system_scope:all) or (domain_id:%(target.limit.domain.id)s or domain_id:%(target.limit.project.domain_id)s) or (project_id:%(target.limit.project_id)s and not None:%(target.limit.project_id)s)",
            scopes: [.system, .domain, .project]
        ),
        PolicyDefault(listLimits, "", scopes: [.system, .domain, .project]),
        PolicyDefault(createLimits, "rule:admin_required", scopes: [.system, .project]),
        PolicyDefault(updateLimit, "rule:admin_required", scopes: [.system, .project]),
        PolicyDefault(deleteLimit, "rule:admin_required", scopes: [.system, .project]),

        // MARK: mapping.py
        PolicyDefault(createMapping, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(
            getMapping,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listMappings,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(deleteMapping, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(updateMapping, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),

        // MARK: policy.py
        PolicyDefault(
            getPolicy,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listPolicies,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(createPolicy, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(updatePolicy, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(deletePolicy, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),

        // MARK: policy_association.py
        PolicyDefault(createPolicyAssociationForEndpoint, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(
            checkPolicyAssociationForEndpoint,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(deletePolicyAssociationForEndpoint, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(createPolicyAssociationForService, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(
            checkPolicyAssociationForService,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(deletePolicyAssociationForService, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(
            createPolicyAssociationForRegionAndService,
            "rule:admin_required",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            checkPolicyAssociationForRegionAndService,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            deletePolicyAssociationForRegionAndService,
            "rule:admin_required",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            getPolicyForEndpoint,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listEndpointsForPolicy,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),

        // MARK: project.py
        PolicyDefault(
            getProject,
            "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s) or project_id:%(target.project.id)s",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required or project_id:%(target.project.id)s"
        ),
        PolicyDefault(
            listProjects,
            "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listUserProjects,
            "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.user.domain_id)s) or user_id:%(target.user.id)s",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_or_owner"
        ),
        PolicyDefault(
            createProject,
            "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            updateProject,
            "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            deleteProject,
            "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listProjectTags,
            "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s) or project_id:%(target.project.id)s",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required or project_id:%(target.project.id)s"
        ),
        PolicyDefault(
            getProjectTag,
            "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s) or project_id:%(target.project.id)s",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required or project_id:%(target.project.id)s"
        ),
        PolicyDefault(
            updateProjectTags,
            "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            createProjectTag,
            "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            deleteProjectTags,
            "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            deleteProjectTag,
            "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),

        // MARK: project_endpoint.py
        PolicyDefault(
            listProjectsForEndpoint,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(addEndpointToProject, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(
            checkEndpointInProject,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listEndpointsForProject,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(removeEndpointFromProject, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),

        // MARK: protocol.py
        PolicyDefault(createProtocol, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(updateProtocol, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(
            getProtocol,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listProtocols,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(deleteProtocol, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),

        // MARK: region.py
        PolicyDefault(getRegion, "", scopes: [.system, .domain, .project]),
        PolicyDefault(listRegions, "", scopes: [.system, .domain, .project]),
        PolicyDefault(createRegion, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(updateRegion, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(deleteRegion, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),

        // MARK: registered_limit.py
        PolicyDefault(getRegisteredLimit, "", scopes: [.system, .domain, .project]),
        PolicyDefault(listRegisteredLimits, "", scopes: [.system, .domain, .project]),
        PolicyDefault(createRegisteredLimits, "rule:admin_required", scopes: [.system, .project]),
        PolicyDefault(updateRegisteredLimit, "rule:admin_required", scopes: [.system, .project]),
        PolicyDefault(deleteRegisteredLimit, "rule:admin_required", scopes: [.system, .project]),

        // MARK: revoke_event.py
        PolicyDefault(listRevokeEvents, "rule:service_or_admin", scopes: [.system, .project]),

        // MARK: role.py
        PolicyDefault(
            getRole,
            "(rule:admin_required or (role:reader and system_scope:all)) or (role:manager and rule:domain_managed_target_role)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listRoles,
            "(rule:admin_required or (role:reader and system_scope:all)) or (role:manager and not domain_id:None)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(createRole, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(updateRole, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(deleteRole, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(
            getDomainRole,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listDomainRoles,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(createDomainRole, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(updateDomainRole, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(deleteDomainRole, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),

        // MARK: role_assignment.py
        PolicyDefault(
            listRoleAssignments,
            "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s and not None:%(target.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listRoleAssignmentsForTree,
            "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s and not None:%(target.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),

        // MARK: s3tokens.py
        PolicyDefault(s3tokensValidate, "rule:service_or_admin", scopes: [.system, .domain, .project]),

        // MARK: ec2tokens.py
        PolicyDefault(ec2tokensValidate, "rule:service_or_admin", scopes: [.system, .domain, .project]),

        // MARK: service.py
        PolicyDefault(
            getService,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listServices,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(createService, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(updateService, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(deleteService, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),

        // MARK: service_provider.py
        PolicyDefault(createServiceProvider, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(
            listServiceProviders,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            getServiceProvider,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(updateServiceProvider, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),
        PolicyDefault(deleteServiceProvider, "rule:admin_required", scopes: [.system, .project], deprecated: "rule:admin_required"),

        // MARK: token_revocation.py
        PolicyDefault(revocationList, "rule:service_or_admin", scopes: [.system, .project]),

        // MARK: token.py
        PolicyDefault(
            checkToken,
            "rule:admin_required or (role:reader and system_scope:all) or rule:token_subject",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_or_token_subject"
        ),
        PolicyDefault(
            validateToken,
            "rule:admin_required or (role:reader and system_scope:all) or rule:service_role or rule:token_subject",
            scopes: [.system, .domain, .project],
            deprecated: "rule:service_admin_or_token_subject"
        ),
        PolicyDefault(
            revokeToken,
            "rule:admin_required or rule:token_subject",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_or_token_subject"
        ),

        // MARK: trust.py
        PolicyDefault(createTrust, "user_id:%(target.trust.trustor_user_id)s", scopes: [.project]),
        PolicyDefault(
            listTrusts,
            "rule:admin_required or (role:reader and system_scope:all)",
            scopes: [.system, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            listTrustsForTrustor,
            "(rule:admin_required) or (role:reader and system_scope:all or user_id:%(target.trust.trustor_user_id)s)",
            scopes: [.system, .project]
        ),
        PolicyDefault(
            listTrustsForTrustee,
            "(rule:admin_required) or (role:reader and system_scope:all or user_id:%(target.trust.trustee_user_id)s)",
            scopes: [.system, .project]
        ),
        PolicyDefault(
            listRolesForTrust,
            "(rule:admin_required) or (role:reader and system_scope:all or user_id:%(target.trust.trustor_user_id)s or user_id:%(target.trust.trustee_user_id)s)",
            scopes: [.system, .project],
            deprecated: "user_id:%(target.trust.trustor_user_id)s or user_id:%(target.trust.trustee_user_id)s"
        ),
        PolicyDefault(
            getRoleForTrust,
            "(rule:admin_required) or (role:reader and system_scope:all or user_id:%(target.trust.trustor_user_id)s or user_id:%(target.trust.trustee_user_id)s)",
            scopes: [.system, .project],
            deprecated: "user_id:%(target.trust.trustor_user_id)s or user_id:%(target.trust.trustee_user_id)s"
        ),
        PolicyDefault(
            deleteTrust,
            "rule:admin_required or user_id:%(target.trust.trustor_user_id)s",
            scopes: [.system, .project],
            deprecated: "user_id:%(target.trust.trustor_user_id)s"
        ),
        PolicyDefault(
            getTrust,
            "(rule:admin_required) or (role:reader and system_scope:all or user_id:%(target.trust.trustor_user_id)s or user_id:%(target.trust.trustee_user_id)s)",
            scopes: [.system, .project],
            deprecated: "user_id:%(target.trust.trustor_user_id)s or user_id:%(target.trust.trustee_user_id)s"
        ),

        // MARK: user.py
        PolicyDefault(
            getUser,
            "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and token.domain.id:%(target.user.domain_id)s) or user_id:%(target.user.id)s",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_or_owner"
        ),
        PolicyDefault(
            listUsers,
            "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(listProjectsForUser, ""),
        PolicyDefault(listDomainsForUser, ""),
        PolicyDefault(
            createUser,
            "(rule:admin_required) or (role:manager and token.domain.id:%(target.user.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            updateUser,
            "(rule:admin_required) or (role:manager and token.domain.id:%(target.user.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(
            deleteUser,
            "(rule:admin_required) or (role:manager and token.domain.id:%(target.user.domain_id)s)",
            scopes: [.system, .domain, .project],
            deprecated: "rule:admin_required"
        ),
        PolicyDefault(revokeTokensForUser, "rule:admin_or_owner", scopes: [.system, .domain, .project]),
    ]
}
