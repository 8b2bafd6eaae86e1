import Logging
import Synchronization

/// Crash reports: what Elixir's logger prints when a process raises.
///
/// Only processes that crash by throwing an error are reported, as in Elixir:
/// exiting with a reason (`throw ExitReason.shutdown`) or being killed by a
/// signal logs nothing.
public enum CrashReport {
    private static let loggerStorage = Mutex(Logger(label: "ember"))

    /// The logger crash reports go to. Defaults to `Logger(label: "ember")`,
    /// so reports follow whatever `LoggingSystem` the application bootstrapped.
    public static var logger: Logger {
        get { loggerStorage.withLock { $0 } }
        set { loggerStorage.withLock { $0 = newValue } }
    }

    static func log(process: ProcessCell, error: any Error) {
        let origin = process.origin
        let message: String
        switch origin.kind {
        case .process:
            message = "Process \(process.pid) raised an exception\n** \(ExitReason.describe(error))"
                + "\n    \(origin.file):\(origin.line): \(origin.function)"
        case .task:
            message = "Task \(process.pid) started from \(origin.parent.map(\.description) ?? "outside any process") terminating"
                + "\n** \(ExitReason.describe(error))"
                + "\n    \(origin.file):\(origin.line): \(origin.function)"
                + "\nFunction: closure at \(origin.file):\(origin.line)\n    Args: []"
        }
        logger.error("\(message)", metadata: ["pid": "\(process.pid)", "reason": "\(ExitReason.error(error))"])
    }
}
