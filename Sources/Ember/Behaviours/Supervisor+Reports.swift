import Logging

extension Supervisor {
    /// A supervisor report, as Elixir's logger prints OTP's: "Child X of
    /// Supervisor Y terminated", "failed to start", "shut down abnormally",
    /// "caused shutdown". Logged at error level on ``CrashReport/logger`` with
    /// the metadata `pid` (the child's), `reason`, `child` (its id) and
    /// `supervisor`.
    struct Report: Sendable, Equatable {
        enum Context: Sendable, Equatable {
            case childTerminated
            case startError
            case shutdownError
            case reachedMaxIntensity

            var phrase: String {
                switch self {
                case .childTerminated: "terminated"
                case .startError: "failed to start"
                case .shutdownError: "shut down abnormally"
                case .reachedMaxIntensity: "caused shutdown"
                }
            }
        }

        let context: Context
        let child: ChildSummary
        let pid: Pid?
        let reason: ExitReason

        init(_ context: Context, _ child: ChildSummary, pid: Pid?, reason: ExitReason) {
            self.context = context
            self.child = child
            self.pid = pid
            self.reason = reason
        }

        /// The report's text, Elixir's wording.
        func text(supervisor: String) -> String {
            var text = "Child \(inspect(child.id)) of Supervisor \(supervisor) \(context.phrase)"
            text += "\n** (exit) \(reason)"
            if let pid, context != .reachedMaxIntensity { text += "\nPid: \(pid)" }
            text += "\nRestart: \(child.restart)\nShutdown: \(child.shutdown)\nType: \(child.type)"
            return text
        }

        func log(supervisor: String) {
            var metadata: Logger.Metadata = [
                "supervisor": "\(supervisor)", "child": "\(child.id)", "reason": "\(reason)",
            ]
            if let pid { metadata["pid"] = "\(pid)" }
            CrashReport.logger.error("\(text(supervisor: supervisor))", metadata: metadata)
        }

        /// A message no supervisor expects (Elixir logs it and carries on).
        static func unexpected(_ message: any Sendable, supervisor: String) {
            CrashReport.logger.error(
                "Supervisor \(supervisor) received unexpected message: \(inspect(message))",
                metadata: ["supervisor": "\(supervisor)"])
        }
    }
}
