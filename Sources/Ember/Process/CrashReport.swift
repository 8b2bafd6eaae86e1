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
        var message = "Process \(process.pid) raised an exception\n** \(ExitReason.describe(error))"
        message += "\n    \(origin.file):\(origin.line): \(origin.function)"
        if let parent = origin.parent { message += " (started from \(parent))" }
        logger.error(
            "\(message)",
            metadata: ["pid": "\(process.pid)", "reason": "\(ExitReason.error(error))"])
    }
}
