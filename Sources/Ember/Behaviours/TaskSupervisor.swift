/// A supervisor of tasks: Elixir's `Task.Supervisor`.
///
/// It is a ``DynamicSupervisor`` whose children are tasks, all
/// ``Supervisor/Restart/temporary``: a task that crashes is not restarted,
/// and when the supervisor stops, its tasks are shut down. Start tasks under
/// it to keep them out of the caller's way (``asyncNolink(_:file:line:function:_:)``:
/// a crash does not take the caller down) or to have them shut down with the
/// part of the application they belong to.
///
/// ```swift
/// try await withProcess {
///     let tasks = try await TaskSupervisor.startLink(name: "tasks")
///     let task = try await TaskSupervisor.asyncNolink(tasks) { try await fetchRates() }
///     switch try await task.yield(timeout: 2_000) ?? task.shutdown() {
///     case .ok(let rates)?: show(rates)
///     case .exit, nil: showCachedRates()
///     }
/// }
/// ```
public enum TaskSupervisor {
    /// Starts a task supervisor linked to the calling process.
    ///
    /// - Parameters:
    ///   - maxRestarts: passed to ``DynamicSupervisor``; tasks are never restarted.
    ///   - maxSeconds: passed to ``DynamicSupervisor``.
    ///   - maxChildren: how many tasks may run at once under it (nil: no limit).
    ///   - name: a name to register it under.
    /// - Throws: as ``DynamicSupervisor/startLink(maxRestarts:maxSeconds:maxChildren:name:)``.
    public static func startLink(
        maxRestarts: Int = 3, maxSeconds: Int = 5, maxChildren: Int? = nil, name: ProcessName? = nil
    ) async throws -> Pid {
        try await DynamicSupervisor.startLink(
            maxRestarts: maxRestarts, maxSeconds: maxSeconds, maxChildren: maxChildren, name: name)
    }

    /// Starts a task under `supervisor`, linked to the caller and monitored
    /// by it, whose result the caller awaits (Elixir's `Task.Supervisor.async/2`).
    ///
    /// - Throws: ``ProcessError/notInProcess(_:)`` outside a process;
    ///   ``SupervisorError/maxChildren`` if the supervisor is full;
    ///   ``CallError`` if it is not alive.
    public static func async<Success: Sendable>(
        _ supervisor: Pid,
        file: StaticString = #fileID, line: UInt = #line, function: String = #function,
        _ body: @escaping @Sendable () async throws -> Success
    ) async throws -> ProcessTask<Success> {
        try await startAsync(supervisor, link: true, "TaskSupervisor.async", file, line, function, body)
    }

    /// Starts a task under `supervisor`, monitored by the caller but not
    /// linked to it: if the task crashes, the caller gets the DOWN (and
    /// ``ProcessTask/value(timeout:)`` throws) instead of an exit signal
    /// (Elixir's `Task.Supervisor.async_nolink/2`).
    ///
    /// - Throws: as ``async(_:file:line:function:_:)``.
    public static func asyncNolink<Success: Sendable>(
        _ supervisor: Pid,
        file: StaticString = #fileID, line: UInt = #line, function: String = #function,
        _ body: @escaping @Sendable () async throws -> Success
    ) async throws -> ProcessTask<Success> {
        try await startAsync(supervisor, link: false, "TaskSupervisor.asyncNolink", file, line, function, body)
    }

    /// Starts a task under `supervisor` that nobody awaits and returns its
    /// pid (Elixir's `Task.Supervisor.start_child/2`). It is not linked to
    /// the caller.
    ///
    /// ```swift
    /// try await TaskSupervisor.startChild(tasks) { try await sendReceipt(order) }
    /// ```
    ///
    /// - Throws: ``SupervisorError/maxChildren`` if the supervisor is full;
    ///   ``CallError`` if it is not alive.
    @discardableResult
    public static func startChild(
        _ supervisor: Pid,
        file: StaticString = #fileID, line: UInt = #line, function: String = #function,
        _ body: @escaping ProcessBody
    ) async throws -> Pid {
        let origin = SpawnOrigin(parent: ProcessCell.current?.pid, file: file, line: line, function: function, kind: .task)
        return try await DynamicSupervisor.startChild(supervisor, childSpec(origin, body))
    }

    /// Shuts down the task `pid` (Elixir's `Task.Supervisor.terminate_child/2`).
    ///
    /// - Throws: ``SupervisorError/notFound`` if it is not a running child.
    public static func terminateChild(_ supervisor: Pid, _ pid: Pid) async throws {
        try await DynamicSupervisor.terminateChild(supervisor, pid: pid)
    }

    /// The pids of the tasks running under `supervisor`, oldest first
    /// (Elixir's `Task.Supervisor.children/1`).
    public static func children(_ supervisor: Pid) async throws -> [Pid] {
        try await DynamicSupervisor.whichChildren(supervisor).compactMap(\.pid)
    }

    /// The spec of a task child: temporary, started linked to the supervisor.
    /// Its report names the process that asked for it, not the supervisor,
    /// as Elixir's does.
    static func childSpec(_ origin: SpawnOrigin, _ body: @escaping ProcessBody) -> Supervisor.ChildSpec {
        .worker(id: "Task", restart: .temporary, shutdown: .timeout(5_000)) {
            let supervisor = try ProcessCell.required("TaskSupervisor.startChild")
            return Runtime.shared.spawn(parent: supervisor, link: true, monitor: false, origin: origin, body: body).0
        }
    }

    /// Starts a task that waits to be told whom to reply to; the caller
    /// links to it if asked, monitors it and tells it.
    private static func startAsync<Success: Sendable>(
        _ supervisor: Pid, link linked: Bool, _ name: String,
        _ file: StaticString, _ line: UInt, _ function: String,
        _ body: @escaping @Sendable () async throws -> Success
    ) async throws -> ProcessTask<Success> {
        let owner = try ProcessCell.required(name)
        let ownerPid = owner.pid
        let origin = SpawnOrigin(parent: ownerPid, file: file, line: line, function: function, kind: .task)
        let pid = try await DynamicSupervisor.startChild(supervisor, childSpec(origin) {
            // The owner may exit before it tells the task whom to reply to.
            let ownerMonitor = try monitor(ownerPid)
            let start = try await TaskStart.receive(from: ownerPid, ownerMonitor: ownerMonitor)
            try await TaskStart.run(body, replyingTo: start)
        })
        if linked { try link(pid) }
        let ref = try monitor(pid)
        return TaskStart.hand(pid, ref: ref, owner: owner)
    }
}
