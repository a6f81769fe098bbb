import StratusAuth
import StratusCore

/// The other services as nova reaches them (the shared service client): Placement with
/// `[placement]`'s credentials, Networking with `[neutron]`'s (and the caller's token for what
/// the server's project owns, `X-Service-Token` from `[service_user]` beside it), the Image
/// service at `[glance] api_servers` or the catalog's image endpoint.
struct ComputeClients: Sendable {
    let placement: ServiceClient
    let network: ServiceClient
    let image: ServiceClient
    /// nova-compute's way to nova-api: the catalog's internal compute endpoint (in
    /// `[keystone_authtoken] region_name` when set), as `[keystone_authtoken]`'s user (the agent channel).
    let compute: ServiceClient
    /// Identity, to check project ids as nova does (os-quota-sets) with the caller's token.
    let identity: ServiceClient

    init(config: Config) {
        let serviceUser = ServiceUserOptions.session(config: config)
        placement = ServiceClient(
            settings: .init(config: config, group: "placement", serviceType: "placement"),
            session: KeystoneSession(credentials: PasswordCredentials(config: config, group: "placement"))
        )
        network = ServiceClient(
            settings: .init(config: config, group: "neutron", serviceType: "network"),
            session: KeystoneSession(credentials: PasswordCredentials(config: config, group: "neutron")),
            serviceUser: serviceUser
        )
        let own = KeystoneSession(credentials: PasswordCredentials(config: config, group: "keystone_authtoken"))
        var imageSettings = ServiceClient.Settings(config: config, group: "glance", serviceType: "image")
        if let first = config.list("glance", "api_servers").first { imageSettings.endpointOverride = first }
        image = ServiceClient(settings: imageSettings, session: own, serviceUser: serviceUser)
        identity = ServiceClient(
            settings: .init(serviceType: "identity", interfaces: ["internal", "public"], region: config.string("keystone_authtoken", "region_name")),
            session: own
        )
        compute = ServiceClient(
            settings: .init(serviceType: "compute", interfaces: ["internal", "public"], region: config.string("keystone_authtoken", "region_name")),
            session: own
        )
    }
}
