/// Processes that run one function: Elixir's `Task`.
///
/// A task started with ``start(file:line:function:_:)`` or
/// ``startLink(file:line:function:_:)`` runs for its side effects; one
/// started with ``async(file:line:function:_:)`` sends its result back to the
/// process that started it (its *owner*), which collects it with
/// ``ProcessTask/value(timeout:)``.
///
/// ```swift
/// try await withProcess {
///     let task = try Tasks.async { try await fetchPrice("ACME") }
///     let other = work()                       // runs while the task does
///     let price = try await task.value()        // Task.await: 5 seconds at most
/// }
/// ```
///
/// A task that crashes logs Elixir's task report:
/// `Task #PID<0.70.0> started from #PID<0.64.0> terminating`.
public enum Tasks {
    /// Starts a task that nobody is linked to or waits for (Elixir's
    /// `Task.start/1`, whose `{:ok, pid}` becomes the pid). Use it for side
    /// effects whose failure must not affect the caller.
    ///
    /// ```swift
    /// Tasks.start { try await sendWelcomeEmail(to: user) }
    /// ```
    @discardableResult
    public static func start(
        file: StaticString = #fileID, line: UInt = #line, function: String = #function,
        _ body: @escaping ProcessBody
    ) -> Pid {
        Runtime.shared.spawn(from: ProcessCell.current, kind: .task, file: file, line: line, function: function, body: body).pid
    }

    /// Starts a task linked to the caller (Elixir's `Task.start_link/1`): if
    /// it crashes, the caller gets the exit signal. Its result is not sent
    /// anywhere.
    ///
    /// ```swift
    /// try Tasks.startLink { try await warmCache() }
    /// ```
    ///
    /// - Throws: ``ProcessError/notInProcess(_:)`` outside a process.
    @discardableResult
    public static func startLink(
        file: StaticString = #fileID, line: UInt = #line, function: String = #function,
        _ body: @escaping ProcessBody
    ) throws(ProcessError) -> Pid {
        let parent = try ProcessCell.required("Tasks.startLink")
        return Runtime.shared.spawn(
            from: parent, link: true, kind: .task, file: file, line: line, function: function, body: body
        ).pid
    }

    /// Starts a task linked to and monitored by the caller, whose result
    /// the caller collects with ``ProcessTask/value(timeout:)`` (Elixir's
    /// `Task.async/1`).
    ///
    /// Being linked, a task that crashes takes its owner down, and an owner
    /// that exits takes the task with it. Always collect the result (or
    /// ``ProcessTask/shutdown(_:)`` or ``ProcessTask/ignore()`` the task):
    /// the reply and the monitor's ``DownMessage`` stay in the mailbox
    /// otherwise.
    ///
    /// ```swift
    /// let tasks = try urls.map { url in try Tasks.async { try await download(url) } }
    /// let pages = try await Tasks.awaitMany(tasks)
    /// ```
    ///
    /// - Throws: ``ProcessError/notInProcess(_:)`` outside a process.
    public static func async<Success: Sendable>(
        file: StaticString = #fileID, line: UInt = #line, function: String = #function,
        _ body: @escaping @Sendable () async throws -> Success
    ) throws(ProcessError) -> ProcessTask<Success> {
        let owner = try ProcessCell.required("Tasks.async")
        let (pid, monitorRef) = Runtime.shared.spawn(
            from: owner, link: true, monitor: true, kind: .task, file: file, line: line, function: function
        ) {
            let start = try await TaskStart.receive(from: owner.pid, ownerMonitor: nil)
            try await TaskStart.run(body, replyingTo: start)
        }
        // A spawn asked to monitor always returns the monitor's reference.
        guard let ref = monitorRef else { throw .noproc(pid) }
        return TaskStart.hand(pid, ref: ref, owner: owner)
    }

    /// A task that has already finished with `value` (Elixir's
    /// `Task.completed/1`): ``ProcessTask/value(timeout:)`` returns it at
    /// once. Handy where an API expects a task and the result is known.
    ///
    /// It has no process: its ``ProcessTask/pid`` is ``Pid/external``.
    ///
    /// - Throws: ``ProcessError/notInProcess(_:)`` outside a process.
    public static func completed<Success: Sendable>(_ value: Success) throws(ProcessError) -> ProcessTask<Success> {
        let owner = try ProcessCell.required("Tasks.completed")
        let ref = Runtime.shared.makeReference()
        // The reply is put straight in the owner's mailbox, as Elixir's
        // `Task.completed` sends `{ref, result}` to itself.
        owner.deliver(CallReply(ref: ref, value: value))
        return ProcessTask(pid: .external, ref: ref, owner: owner.pid)
    }
}

/// A task whose result its owner awaits: what ``Tasks/async(file:line:function:_:)``
/// and ``TaskSupervisor/async(_:file:line:function:_:)`` return (Elixir's `%Task{}`).
///
/// Only the owner, the process that started it, may await, yield, shut down
/// or ignore it; anyone else gets ``TaskError/notOwner``.
public struct ProcessTask<Success: Sendable>: Sendable, Hashable, CustomStringConvertible {
    /// The task's process.
    public let pid: Pid
    /// The reference its reply carries, which is also the owner's monitor on it.
    public let ref: Reference
    /// The process that started it and may await it.
    public let owner: Pid

    public var description: String { "%Task{pid: \(pid), ref: \(ref), owner: \(owner)}" }
}

/// How a task ended, as ``ProcessTask/yield(timeout:)`` and friends report it.
public enum TaskOutcome<Success: Sendable>: Sendable {
    /// The task replied with this value (`{:ok, value}`).
    case ok(Success)
    /// The task exited with this reason before replying (`{:exit, reason}`).
    case exit(ExitReason)

    /// The value, if the task replied.
    public var value: Success? {
        if case .ok(let value) = self { return value }
        return nil
    }
}

extension TaskOutcome: Equatable where Success: Equatable {}

/// Why awaiting a task failed. Uncaught, it ends the owner, and the linked
/// task with it, as a failed `Task.await` exits the caller in Elixir.
public struct TaskError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Kind: Equatable, Sendable {
        case timeout
        case exited(ExitReason)
        case notOwner
        case unexpectedReply(String)
    }

    let kind: Kind

    /// The task did not reply in time; it is still running.
    public static let timeout = TaskError(kind: .timeout)
    /// The task exited with `reason` before replying.
    public static func exited(_ reason: ExitReason) -> TaskError { TaskError(kind: .exited(reason)) }
    /// The caller is not the task's owner.
    public static let notOwner = TaskError(kind: .notOwner)

    /// The reason an owner that does not catch this exits with, as in
    /// Elixir: `:timeout`, the task's exit reason, or `:not_owner`.
    public var reason: ExitReason {
        switch kind {
        case .timeout: "timeout"
        case .exited(let reason): reason
        case .notOwner: "not_owner"
        case .unexpectedReply: "bad_reply"
        }
    }

    public var description: String {
        switch kind {
        case .timeout: "the task did not reply in time"
        case .exited(let reason): "the task exited (\(reason))"
        case .notOwner: "only the process that started a task may await it"
        case .unexpectedReply(let type): "the task replied with a value of type \(type)"
        }
    }
}

/// The first message a task with a reply waits for: whom to reply to. The
/// owner sends it once it listens for the reference (its alias is active),
/// so a quick task's reply cannot arrive before the owner accepts it.
struct TaskStart: Sendable {
    let owner: Pid
    let ref: Reference

    /// Makes the owner's side of a new task: listens for its reply, then tells
    /// the task where to send it.
    static func hand<Success>(_ pid: Pid, ref: Reference, owner: ProcessCell) -> ProcessTask<Success> {
        owner.withState { $0.activateAlias(ref) }
        send(pid, TaskStart(owner: owner.pid, ref: ref))
        return ProcessTask(pid: pid, ref: ref, owner: owner.pid)
    }

    /// Waits in the task for its ``TaskStart``. With `ownerMonitor`, an owner
    /// that exits first ends the task with `{:shutdown, reason}`: nobody
    /// would collect its result.
    static func receive(from owner: Pid, ownerMonitor: Reference?) async throws -> TaskStart {
        enum Event { case start(TaskStart), ownerDown(ExitReason) }
        let event = try await Ember.receive { (message: any Sendable) -> Event? in
            if let start = message as? TaskStart, start.owner == owner { return .start(start) }
            if let down = message as? DownMessage, down.ref == ownerMonitor { return .ownerDown(down.reason) }
            return nil
        }
        switch event {
        case .start(let start):
            if let ownerMonitor { try demonitor(ownerMonitor, flush: true) }
            return start
        case .ownerDown(let reason):
            throw ExitReason.shutdown("owner exited: \(reason)")
        }
    }

    /// Runs the task's function and sends its result to the owner.
    static func run<Success: Sendable>(
        _ body: @Sendable () async throws -> Success, replyingTo start: TaskStart
    ) async throws {
        let value = try await body()
        Calls.reply(From(pid: start.owner, ref: start.ref), value)
    }
}
