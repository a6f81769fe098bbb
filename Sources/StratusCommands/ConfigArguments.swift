import ArgumentParser
import Foundation
import Logging
import StratusCore

/// `--config-file` / `--config-dir`, as every oslo program takes them (repeatable, in order).
struct ConfigArguments: ParsableArguments {
    @Option(name: .customLong("config-file"), help: "Configuration file to read; repeatable, later files win.")
    var configFiles: [String] = []

    @Option(name: .customLong("config-dir"), help: "Directory of *.conf files read after --config-file.")
    var configDirs: [String] = []

    /// Loads the project's configuration, printing warnings; exits with the problem on a bad value.
    static func load(
        project: String,
        prog: String? = nil,
        files: [String],
        dirs: [String],
        options: [ConfigOption],
        overrides: [(String, String, String)],
        searchDefaultFiles: Bool = true
    ) throws -> Config {
        do {
            let config = try Config.load(
                project: project,
                prog: prog,
                configFiles: files,
                configDirs: dirs,
                options: options,
                overrides: overrides,
                searchDefaultFiles: searchDefaultFiles
            )
            for w in config.warnings { Terminal.warn(w) }
            return config
        } catch {
            throw Terminal.fail("configuration error: \(error)")
        }
    }
}

/// What a command says on standard error: warnings, and failures with exit code 1.
enum Terminal {
    static func warn(_ s: String) {
        FileHandleStderr.write("stratus: warning: \(s)\n")
    }

    /// Prints the message and returns the exit code to throw.
    static func fail(_ s: String) -> ExitCode {
        FileHandleStderr.write("stratus: error: \(s)\n")
        return ExitCode(1)
    }
}

/// Unbuffered writes to standard error (after the buffered log lines before them).
enum FileHandleStderr {
    static func write(_ s: String) {
        LogBuffer.shared.flush()
        FileHandle.standardError.write(Data(s.utf8))
    }
}

/// Bootstraps swift-log once: stderr through `LogBuffer`, `info` (or `debug` with `[DEFAULT] debug = true`).
enum Logs {
    nonisolated(unsafe) static var configured = false

    static func setUp(debug: Bool) {
        guard !configured else { return }
        configured = true
        LoggingSystem.bootstrap { label in BufferedLogHandler(label: label, level: debug ? .debug : .info) }
    }
}

/// Moves oslo's global `--config-file` / `--config-dir` options that precede a subcommand to
/// after it (`keystone-manage --config-file f db_sync` works as with oslo).
func hoistConfigOptions(_ args: [String]) -> [String] {
    var hoisted: [String] = []
    var rest: [String] = []
    var i = 0
    while i < args.count {
        let a = args[i]
        if a == "--config-file" || a == "--config-dir", i + 1 < args.count {
            hoisted += [a, args[i + 1]]
            i += 2
        } else if a.hasPrefix("--config-file=") || a.hasPrefix("--config-dir=") {
            hoisted.append(a)
            i += 1
        } else {
            rest.append(a)
            i += 1
        }
    }
    return rest + hoisted
}
