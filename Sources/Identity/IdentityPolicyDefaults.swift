/// Keystone's default policy rules (keystone/common/policies), as oslo.policy rule strings.
/// The names and check strings are API contract: a policy.yaml written for keystone overrides them unchanged.
enum IdentityPolicyDefaults {
    static let rules: [String: String] = [
        // MARK: base.py
        "admin_required": "role:admin or is_admin:1",
        "service_role": "role:service",
        "service_or_admin": "rule:admin_required or rule:service_role",
        "owner": "user_id:%(user_id)s",
        "admin_or_owner": "rule:admin_required or rule:owner",
        "token_subject": "user_id:%(target.token.user_id)s",
        "admin_or_token_subject": "rule:admin_required or rule:token_subject",
        "service_admin_or_token_subject": "rule:service_or_admin or rule:token_subject",
        "domain_managed_target_role": "'manager':%(target.role.name)s or 'member':%(target.role.name)s or 'reader':%(target.role.name)s",

        // MARK: auth.py
        "identity:get_auth_catalog": "",
        "identity:get_auth_projects": "",
        "identity:get_auth_domains": "",
        "identity:get_auth_system": "",

        // MARK: token.py
        "identity:check_token": "rule:admin_required or (role:reader and system_scope:all) or rule:token_subject",
        "identity:validate_token": "rule:admin_required or (role:reader and system_scope:all) or rule:service_role or rule:token_subject",
        "identity:revoke_token": "rule:admin_required or rule:token_subject",

        // MARK: domain.py
        "identity:get_domain": "rule:admin_required or (role:reader and system_scope:all) or token.domain.id:%(target.domain.id)s or token.project.domain.id:%(target.domain.id)s",
        "identity:list_domains": "rule:admin_required or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain.id)s)",
        "identity:create_domain": "rule:admin_required",
        "identity:update_domain": "rule:admin_required",
        "identity:delete_domain": "rule:admin_required",

        // MARK: project.py
        "identity:get_project": "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s) or project_id:%(target.project.id)s",
        "identity:list_projects": "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)",
        "identity:list_user_projects": "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.user.domain_id)s) or user_id:%(target.user.id)s",
        "identity:create_project": "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)",
        "identity:update_project": "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)",
        "identity:delete_project": "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)",
        "identity:list_project_tags": "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s) or project_id:%(target.project.id)s",
        "identity:get_project_tag": "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s) or project_id:%(target.project.id)s",
        "identity:update_project_tags": "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)",
        "identity:create_project_tag": "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)",
        "identity:delete_project_tags": "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)",
        "identity:delete_project_tag": "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)",

        // MARK: user.py
        "identity:get_user": "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and token.domain.id:%(target.user.domain_id)s) or user_id:%(target.user.id)s",
        "identity:list_users": "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)",
        "identity:list_projects_for_user": "",
        "identity:list_domains_for_user": "",
        "identity:create_user": "(rule:admin_required) or (role:manager and token.domain.id:%(target.user.domain_id)s)",
        "identity:update_user": "(rule:admin_required) or (role:manager and token.domain.id:%(target.user.domain_id)s)",
        "identity:delete_user": "(rule:admin_required) or (role:manager and token.domain.id:%(target.user.domain_id)s)",

        // MARK: group.py
        "identity:get_group": "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.group.domain_id)s)",
        "identity:list_groups": "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.group.domain_id)s)",
        "identity:list_groups_for_user": "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.user.domain_id)s) or user_id:%(user_id)s",
        "identity:create_group": "(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s)",
        "identity:update_group": "(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s)",
        "identity:delete_group": "(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s)",
        "identity:list_users_in_group": "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.group.domain_id)s)",
        "identity:remove_user_from_group": "(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)",
        "identity:check_user_in_group": "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)",
        "identity:add_user_to_group": "(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)",

        // MARK: role.py
        "identity:get_role": "(rule:admin_required or (role:reader and system_scope:all)) or (role:manager and rule:domain_managed_target_role)",
        "identity:list_roles": "(rule:admin_required or (role:reader and system_scope:all)) or (role:manager and not domain_id:None)",
        "identity:create_role": "rule:admin_required",
        "identity:update_role": "rule:admin_required",
        "identity:delete_role": "rule:admin_required",
        "identity:get_domain_role": "rule:admin_required or (role:reader and system_scope:all)",
        "identity:list_domain_roles": "rule:admin_required or (role:reader and system_scope:all)",
        "identity:create_domain_role": "rule:admin_required",
        "identity:update_domain_role": "rule:admin_required",
        "identity:delete_domain_role": "rule:admin_required",

        // MARK: implied_role.py
        "identity:get_implied_role": "rule:admin_required or (role:reader and system_scope:all)",
        "identity:list_implied_roles": "rule:admin_required or (role:reader and system_scope:all)",
        "identity:create_implied_role": "rule:admin_required",
        "identity:delete_implied_role": "rule:admin_required",
        "identity:list_role_inference_rules": "rule:admin_required or (role:reader and system_scope:all)",
        "identity:check_implied_role": "rule:admin_required or (role:reader and system_scope:all)",

        // MARK: grant.py
        "identity:check_grant": "(rule:admin_required) or ((role:reader and system_scope:all) or ((role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s))",
        "identity:list_grants": "(rule:admin_required) or ((role:reader and system_scope:all) or (role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s))",
        "identity:create_grant": "(rule:admin_required) or ((role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s) or ((role:manager and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:manager and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and rule:domain_managed_target_role",
        "identity:revoke_grant": "(rule:admin_required) or ((role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s) or ((role:manager and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:manager and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and rule:domain_managed_target_role",
        "identity:list_system_grants_for_user": "rule:admin_required or (role:reader and system_scope:all)",
        "identity:check_system_grant_for_user": "rule:admin_required or (role:reader and system_scope:all)",
        "identity:create_system_grant_for_user": "rule:admin_required",
        "identity:revoke_system_grant_for_user": "rule:admin_required",
        "identity:list_system_grants_for_group": "rule:admin_required or (role:reader and system_scope:all)",
        "identity:check_system_grant_for_group": "rule:admin_required or (role:reader and system_scope:all)",
        "identity:create_system_grant_for_group": "rule:admin_required",
        "identity:revoke_system_grant_for_group": "rule:admin_required",

        // MARK: role_assignment.py
        "identity:list_role_assignments": "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)",
        "identity:list_role_assignments_for_tree": "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)",

        // MARK: region.py
        "identity:get_region": "",
        "identity:list_regions": "",
        "identity:create_region": "rule:admin_required",
        "identity:update_region": "rule:admin_required",
        "identity:delete_region": "rule:admin_required",

        // MARK: service.py
        "identity:get_service": "rule:admin_required or (role:reader and system_scope:all)",
        "identity:list_services": "rule:admin_required or (role:reader and system_scope:all)",
        "identity:create_service": "rule:admin_required",
        "identity:update_service": "rule:admin_required",
        "identity:delete_service": "rule:admin_required",

        // MARK: endpoint.py
        "identity:get_endpoint": "rule:admin_required or (role:reader and system_scope:all)",
        "identity:list_endpoints": "rule:admin_required or (role:reader and system_scope:all)",
        "identity:create_endpoint": "rule:admin_required",
        "identity:update_endpoint": "rule:admin_required",
        "identity:delete_endpoint": "rule:admin_required",

        // MARK: application_credential.py
        "identity:get_application_credential": "(rule:admin_required) or (role:reader and system_scope:all) or rule:owner",
        "identity:list_application_credentials": "(rule:admin_required) or (role:reader and system_scope:all) or rule:owner",
        "identity:create_application_credential": "user_id:%(user_id)s",
        "identity:delete_application_credential": "rule:admin_or_owner",

        // MARK: credential.py
        "identity:get_credential": "(rule:admin_required) or (role:reader and system_scope:all) or user_id:%(target.credential.user_id)s",
        "identity:list_credentials": "(rule:admin_required) or (role:reader and system_scope:all) or user_id:%(target.credential.user_id)s",
        "identity:create_credential": "(rule:admin_required) or user_id:%(target.credential.user_id)s",
        "identity:update_credential": "(rule:admin_required) or user_id:%(target.credential.user_id)s",
        "identity:delete_credential": "(rule:admin_required) or user_id:%(target.credential.user_id)s",
    ]
}
