/// The body of a process: returning exits `normal`, throwing an error crashes
/// the process with that error as its reason, throwing an ``ExitReason`` exits
/// with that reason.
public typealias ProcessBody = @Sendable () async throws -> Void

/// Starts a process running `body` and returns its pid at once.
///
/// The process runs concurrently on Ember's scheduler and is isolated: if it
/// crashes, a report is logged and nobody else is affected.
///
/// ```swift
/// let pid = spawn { _ = 1 + 2 }
/// pid.isAlive   // very likely false by now
/// ```
@discardableResult
public func spawn(
    file: StaticString = #fileID, line: UInt = #line, function: String = #function,
    _ body: @escaping ProcessBody
) -> Pid {
    Runtime.shared.spawn(from: ProcessCell.current, file: file, line: line, function: function, body: body).pid
}

/// Starts a process linked to the calling one: if either exits abnormally,
/// the other receives an exit signal.
///
/// ```swift
/// try spawnLink { throw RuntimeError("oops") }   // takes the caller down too
/// ```
///
/// - Throws: ``ProcessError/notInProcess(_:)`` outside a process.
@discardableResult
public func spawnLink(
    file: StaticString = #fileID, line: UInt = #line, function: String = #function,
    _ body: @escaping ProcessBody
) throws(ProcessError) -> Pid {
    let parent = try ProcessCell.required("spawnLink")
    return Runtime.shared.spawn(from: parent, link: true, file: file, line: line, function: function, body: body).pid
}

/// Starts a process monitored by the calling one and returns its pid and the
/// monitor's reference; a ``DownMessage`` arrives when it exits.
///
/// - Throws: ``ProcessError/notInProcess(_:)`` outside a process.
public func spawnMonitor(
    file: StaticString = #fileID, line: UInt = #line, function: String = #function,
    _ body: @escaping ProcessBody
) throws(ProcessError) -> (pid: Pid, ref: Reference) {
    let parent = try ProcessCell.required("spawnMonitor")
    let (pid, ref) = Runtime.shared.spawn(from: parent, monitor: true, file: file, line: line, function: function, body: body)
    return (pid, ref!)
}

/// Runs `body` as a new process and returns what it returns: the bridge from
/// ordinary Swift code (a `main`, a test, a request handler) into Ember, like
/// the shell process in `iex`.
///
/// If the process is taken down by an exit signal (a linked process crashed),
/// this throws the ``ExitReason``.
///
/// ```swift
/// let answer = try await withProcess {
///     send(try Pid.current, "ping")
///     return try await receive { (m: String) in m }
/// }
/// ```
@discardableResult
public func withProcess<T: Sendable>(
    file: StaticString = #fileID, line: UInt = #line, function: String = #function,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withUnsafeThrowingContinuation { continuation in
        // Resumed exactly once: the process body below always reaches one of its two exits.
        _ = Runtime.shared.spawn(from: ProcessCell.current, file: file, line: line, function: function) {
            let me = ProcessCell.current!
            do {
                let value = try await body()
                if let reason = me.withState({ $0.exitReason }), reason != .normal {
                    continuation.resume(throwing: reason)
                } else {
                    continuation.resume(returning: value)
                }
            } catch {
                let reason = me.withState { $0.exitReason }
                continuation.resume(throwing: reason ?? error)
                throw error
            }
        }
    }
}

extension Pid {
    /// The pid of the calling process (Elixir's `self()`).
    ///
    /// - Throws: ``ProcessError/notInProcess(_:)`` outside a process.
    public static var current: Pid {
        get throws(ProcessError) { try ProcessCell.required("Pid.current").pid }
    }

    /// The pid used as the sender of signals sent from outside any process.
    public static let external = Pid(node: 0, id: 0, serial: 0, creation: 0)
}

extension ProcessCell {
    @usableFromInline
    static func required(_ function: String) throws(ProcessError) -> ProcessCell {
        guard let cell = current else { throw .notInProcess(function) }
        return cell
    }
}

/// The pids of all live processes on this node (Elixir's `Process.list/0`).
public func processes() -> [Pid] { Runtime.shared.processes() }

/// How many processes are alive on this node: exact when none spawns or
/// exits meanwhile, approximate while they do (the count is a sum taken
/// piece by piece).
public var processCount: Int { Runtime.shared.processCount }

/// Lets other processes run before the caller continues. A long computation
/// that does not `receive` should call it now and then: Ember schedules
/// cooperatively.
public func yieldNow() async { await Scheduler.yield() }
