import Logging
import Synchronization
import Testing

@testable import Ember

/// Polls `condition` until it holds or `seconds` pass; returns whether it held.
func eventually(within seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        if ProcessCell.current != nil {
            // Inside a process, wait the way a process does.
            _ = try? await receive(Never.self, after: 2)
        } else {
            try? await Task.sleep(for: .milliseconds(2))
        }
    }
    return condition()
}

/// Collects every log record, so tests can look for the crash report of a given pid.
final class CapturedLogs: Sendable {
    static let shared: CapturedLogs = {
        let logs = CapturedLogs()
        CrashReport.logger = Logger(label: "ember") { _ in Handler(logs: logs) }
        return logs
    }()

    private let records = Mutex<[(Logger.Level, String, Logger.Metadata)]>([])

    func append(_ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata) {
        records.withLock { $0.append((level, message, metadata)) }
    }

    /// Messages logged with `pid` in their metadata.
    func messages(for pid: Pid) -> [String] {
        records.withLock { $0.filter { $0.2["pid"]?.description == pid.description }.map(\.1) }
    }

    /// Whether a message logged with `pid` in its metadata starts with `prefix`.
    func hasMessage(for pid: Pid, startingWith prefix: String) -> Bool {
        messages(for: pid).contains { $0.hasPrefix(prefix) }
    }

    struct Handler: LogHandler {
        let logs: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            logs.append(event.level, event.message.description, metadata.merging(event.metadata ?? [:]) { $1 })
        }
    }
}

/// Waits for the DOWN message of `ref`.
func down(_ ref: Reference, within timeout: Timeout = 10_000) async throws -> DownMessage? {
    try await receive(after: timeout) { (message: DownMessage) in message.ref == ref ? message : nil }
}

/// Expects `call` to fail with a ``CallError`` and `server` to exit with
/// that same reason, one that mentions `text`.
func expectCallFails(
    _ server: Pid, withReasonMentioning text: String, sourceLocation: SourceLocation = #_sourceLocation,
    _ call: () async throws -> Void
) async throws {
    let ref = try monitor(server)
    let failure = await #expect(throws: CallError.self, sourceLocation: sourceLocation) { try await call() }
    let exit = try await down(ref)
    #expect(failure?.reason == exit?.reason, sourceLocation: sourceLocation)
    #expect(exit.map { "\($0.reason)".contains(text) } == true, sourceLocation: sourceLocation)
}

/// Waits for the exit message from `pid`.
func exitMessage(from pid: Pid, within timeout: Timeout = 10_000) async throws -> ExitMessage? {
    try await receive(after: timeout) { (message: ExitMessage) in message.from == pid ? message : nil }
}

/// Spawns a process that waits until told to stop (or forever).
func idleProcess() -> Pid {
    spawn { _ = try await receive { (message: Atom) in message == "stop" ? () : nil } }
}
