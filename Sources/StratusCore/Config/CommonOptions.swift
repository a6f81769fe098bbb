/// Options every Stratus service accepts in [DEFAULT] and the shared oslo groups.
public enum CommonOptions {
    public static let all: [ConfigOption] = [
        .bool("DEFAULT", "debug", default: false, "Log at debug level."),
        .bool("DEFAULT", "verbose", default: true, "Accepted for compatibility."),
        .string("DEFAULT", "log_file", "Log to this file instead of standard error."),
        .string("DEFAULT", "log_dir", "Directory for log_file."),
        .string("DEFAULT", "my_ip", default: "127.0.0.1", "This host's address (used in $my_ip interpolation)."),
        .string("DEFAULT", "host", default: "localhost", "This host's name."),
        .string("DEFAULT", "state_path", default: "/var/lib/stratus", "Top-level directory for state."),
        .ignored("DEFAULT", "transport_url", "RabbitMQ is not used: Stratus passes work through the database (accepted and ignored)."),
        .string("DEFAULT", "auth_strategy", default: "keystone", "Accepted for compatibility."),
        .ignored("DEFAULT", "use_stderr", "Accepted for compatibility."),
        .int("oslo_middleware", "max_request_body_size", default: 114_688, min: 0, "Largest request body accepted, in bytes."),
    ]
}
