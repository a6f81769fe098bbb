import StratusAuth

/// glance 33's policy (glance/policies): the rule names, the check strings verbatim with their
/// scope types, and the deprecated `rule:default`-era strings that `enforce_new_defaults = false`
/// ORs in. The target of an image rule is the image: `project_id` and `owner` are its owner,
/// `member_id` the caller's project when it is a member, `visibility` its visibility.
enum ImagePolicy {
    static let projectMember = "role:member and project_id:%(project_id)s"
    static let projectReader = "role:reader and project_id:%(project_id)s"
    static let imageMember = "project_id:%(member_id)s"
    static let visible = "'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s"
    static let admin = "rule:context_is_admin"
    static let adminOrProjectMember = "\(admin) or (\(projectMember))"
    static let adminOrProjectReader = "\(admin) or (\(projectReader))"
    static let getImage = "\(admin) or (role:reader and (project_id:%(project_id)s or \(imageMember) or \(visible)))"
    static let downloadImage = "\(admin) or (role:member and (project_id:%(project_id)s or \(imageMember) or \(visible)))"
    static let createImage = "\(admin) or (\(projectMember) and project_id:%(owner)s)"
    static let sharedMember = "\(admin) or (role:member and \(imageMember))"
    static let readerOrSharedMember = "\(admin) or role:reader and (project_id:%(project_id)s or \(imageMember))"
    static let serviceOrProjectMember = "rule:service_api or (\(projectMember) and project_id:%(owner)s)"

    static let defaults: [PolicyDefault] = [
        PolicyDefault("default", "", deprecated: admin),
        PolicyDefault("context_is_admin", "role:admin"),
        PolicyDefault("service_api", "role:service or role:admin"),
        PolicyDefault("add_image", createImage, scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("delete_image", adminOrProjectMember, scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("get_image", getImage, scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("get_images", adminOrProjectReader, scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("modify_image", adminOrProjectMember, scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("publicize_image", admin, scopes: [.project]),
        PolicyDefault("communitize_image", adminOrProjectMember, scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("download_image", downloadImage, scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("download_from_store", downloadImage, scopes: [.project]),
        PolicyDefault("upload_image", adminOrProjectMember, scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("delete_image_location", admin, scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("get_image_location", adminOrProjectReader, scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("set_image_location", adminOrProjectMember, scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("add_image_location", serviceOrProjectMember, scopes: [.project]),
        PolicyDefault("fetch_image_location", "rule:service_api", scopes: [.project]),
        PolicyDefault("add_member", adminOrProjectMember, scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("delete_member", adminOrProjectMember, scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("get_member", readerOrSharedMember, scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("get_members", readerOrSharedMember, scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("modify_member", sharedMember, scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("deactivate", adminOrProjectMember, scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("reactivate", adminOrProjectMember, scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("copy_image", admin, scopes: [.project]),
        PolicyDefault("get_task", "rule:default", scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("get_tasks", "rule:default", scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("add_task", "rule:default", scopes: [.project], deprecated: "rule:default"),
        PolicyDefault("modify_task", "rule:default", scopes: [.project]),
        PolicyDefault("tasks_api_access", admin, scopes: [.project]),
        PolicyDefault("stores_info_detail", "\(admin) or rule:service_api", scopes: [.project], deprecated: admin),
    ]
}
