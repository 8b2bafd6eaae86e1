/// A supervisor that starts with no children and starts them on demand:
/// Elixir's `DynamicSupervisor`.
///
/// Its children have no order: each is restarted on its own (one for one),
/// and when the supervisor exits they are all asked to stop at once. Restart
/// intensity works as for ``Supervisor`` (3 restarts in 5 seconds by default).
///
/// ```swift
/// try await withProcess {
///     let pool = try await DynamicSupervisor.startLink(maxChildren: 100, name: "pool")
///     let worker = try await DynamicSupervisor.startChild(pool, .worker(id: "job", restart: .transient) {
///         try spawnLink { try await runJob() }
///     })
///     try await DynamicSupervisor.terminateChild(pool, pid: worker)
/// }
/// ```
///
/// Like a ``Supervisor``, it is linked to the process that started it and
/// exits with it; its functions are calls that wait for as long as it takes
/// and throw ``CallError`` if it is not alive.
public enum DynamicSupervisor {
    /// Starts a dynamic supervisor linked to the calling process.
    ///
    /// - Parameters:
    ///   - maxRestarts: how many restarts it allows within `maxSeconds` before it gives up.
    ///   - maxSeconds: the window, in seconds, in which restarts are counted.
    ///   - maxChildren: how many children it may have at once (nil: no limit).
    ///   - name: a name to register it under.
    /// - Throws: ``ProcessError/notInProcess(_:)`` outside a process;
    ///   ``SupervisorError/alreadyStarted(_:)`` if `name` is taken;
    ///   ``SupervisorError/invalidOption(_:)``.
    public static func startLink(
        maxRestarts: Int = 3, maxSeconds: Int = 5, maxChildren: Int? = nil, name: ProcessName? = nil
    ) async throws -> Pid {
        let configuration = Supervisor.Configuration(
            strategy: .oneForOne, maxRestarts: maxRestarts, maxSeconds: maxSeconds, name: name,
            maxChildren: maxChildren, isDynamic: true)
        return try await Supervisor.Server.startLink(configuration, children: [], function: "DynamicSupervisor.startLink")
    }

    /// Starts a child under the supervisor and returns its pid. Ids need not
    /// be unique here.
    ///
    /// - Throws: ``SupervisorError/maxChildren`` if it is full,
    ///   ``SupervisorError/startFailed(id:reason:)`` if the start function throws.
    public static func startChild(_ supervisor: Pid, _ spec: Supervisor.ChildSpec) async throws -> Pid {
        try await Supervisor.request(supervisor, StartChild(spec: spec))
    }

    /// Stops the child `pid` and forgets it.
    ///
    /// - Throws: ``SupervisorError/notFound`` if `pid` is not a running child.
    public static func terminateChild(_ supervisor: Pid, pid: Pid) async throws {
        try await Supervisor.request(supervisor, TerminateChild(pid: pid)) as Void
    }

    /// The children, oldest first; one being restarted has no pid.
    public static func whichChildren(_ supervisor: Pid) async throws -> [Supervisor.ChildInfo] {
        try await Supervisor.whichChildren(supervisor)
    }

    /// How many children there are, running, and of each type.
    public static func countChildren(_ supervisor: Pid) async throws -> Supervisor.ChildCounts {
        try await Supervisor.countChildren(supervisor)
    }

    /// Stops the supervisor: all its children are asked to stop at once,
    /// then it exits with `reason`. Returns once it has exited.
    ///
    /// - Throws: ``CallError/noproc`` if it is not alive, ``CallError/timeout``.
    public static func stop(_ supervisor: Pid, reason: ExitReason = .normal, timeout: Timeout = .infinity) async throws {
        try await Supervisor.stop(supervisor, reason: reason, timeout: timeout)
    }

    struct StartChild: Supervisor.Request {
        let spec: Supervisor.ChildSpec

        func handle(_ server: inout Supervisor.Server) async throws -> any Sendable {
            try await server.startNewChild(spec)
        }
    }

    struct TerminateChild: Supervisor.Request {
        let pid: Pid

        func handle(_ server: inout Supervisor.Server) async throws -> any Sendable {
            try await server.terminate(server.core.children.key(of: pid), forgetting: true)
        }
    }
}

// MARK: - By name

extension DynamicSupervisor {
    /// ``startChild(_:_:)-(Pid,_)`` for the supervisor registered as `name`.
    public static func startChild(_ name: ProcessName, _ spec: Supervisor.ChildSpec) async throws -> Pid {
        try await startChild(Supervisor.resolve(name), spec)
    }

    /// ``terminateChild(_:pid:)-(Pid,_)`` for the supervisor registered as `name`.
    public static func terminateChild(_ name: ProcessName, pid: Pid) async throws {
        try await terminateChild(Supervisor.resolve(name), pid: pid)
    }

    /// ``whichChildren(_:)-(Pid)`` for the supervisor registered as `name`.
    public static func whichChildren(_ name: ProcessName) async throws -> [Supervisor.ChildInfo] {
        try await whichChildren(Supervisor.resolve(name))
    }

    /// ``countChildren(_:)-(Pid)`` for the supervisor registered as `name`.
    public static func countChildren(_ name: ProcessName) async throws -> Supervisor.ChildCounts {
        try await countChildren(Supervisor.resolve(name))
    }

    /// ``stop(_:reason:timeout:)-(Pid,_,_)`` for the supervisor registered as `name`.
    public static func stop(_ name: ProcessName, reason: ExitReason = .normal, timeout: Timeout = .infinity) async throws {
        try await stop(Supervisor.resolve(name), reason: reason, timeout: timeout)
    }
}
