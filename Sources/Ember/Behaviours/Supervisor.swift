/// A process that starts, watches and restarts other processes: Elixir's
/// `Supervisor`.
///
/// A supervisor starts its children in order, links to them and traps exits.
/// When a child exits, the supervisor restarts it according to the child's
/// ``Restart`` and the supervisor's ``Strategy``. More than `maxRestarts`
/// restarts within `maxSeconds` (3 in 5 by default) and the supervisor gives
/// up: it stops its children and exits with `shutdown`, which takes the
/// failure one level up the tree.
///
/// ```swift
/// try await withProcess {
///     let supervisor = try await Supervisor.startLink(
///         children: [
///             .worker(id: "cache") { try spawnLink { try await cacheLoop() } },
///             .worker(id: "counter") { try await Counter.startLink(0) },
///         ],
///         strategy: .oneForOne)
///     let children = try await Supervisor.whichChildren(supervisor)
///     // [{"cache", #PID<0.81.0>, :worker}, {"counter", #PID<0.82.0>, :worker}]
/// }
/// ```
///
/// A supervisor is linked to the process that started it: when that process
/// exits (even `normal`), the supervisor stops its children, newest first,
/// and exits with the same reason. Each child is asked with an exit signal
/// `shutdown` and given its ``Shutdown`` time before it is killed. As in
/// OTP, an exit signal from any other process is ignored (the supervisor
/// traps exits): use ``stop(_:reason:timeout:)-(Pid,_,_)``, or `kill`.
///
/// A child's start function runs in the supervisor's process, so it must not
/// call the supervisor itself (it would wait for ever, as in Elixir).
///
/// The functions that talk to a running supervisor are calls: they wait for
/// as long as it takes (Elixir uses `:infinity` here) and throw ``CallError``
/// if the supervisor is not alive or exits meanwhile. They work from outside
/// a process too. Supervisor crashes and restarts are logged on
/// ``CrashReport/logger`` as Elixir's supervisor reports.
public enum Supervisor {
    /// Which children a supervisor restarts when one exits and must be
    /// restarted (Elixir's `:strategy`).
    public struct Strategy: Sendable, Hashable, CustomStringConvertible {
        enum Kind: Sendable, Hashable { case oneForOne, oneForAll, restForOne }
        let kind: Kind

        /// Only that child is restarted.
        public static let oneForOne = Strategy(kind: .oneForOne)
        /// Every other child is stopped (newest first), then all are started again in order.
        public static let oneForAll = Strategy(kind: .oneForAll)
        /// The children started after it are stopped (newest first), then it
        /// and they are started again in order.
        public static let restForOne = Strategy(kind: .restForOne)

        public var description: String {
            switch kind {
            case .oneForOne: ":one_for_one"
            case .oneForAll: ":one_for_all"
            case .restForOne: ":rest_for_one"
            }
        }
    }

    /// Starts a supervisor linked to the calling process, starts `children`
    /// in order, and returns its pid once they all run.
    ///
    /// If a child fails to start, the children already started are stopped,
    /// newest first, the supervisor exits, and this throws
    /// ``SupervisorError/startFailed(id:reason:)``; the caller gets no exit
    /// signal.
    ///
    /// ```swift
    /// let supervisor = try await Supervisor.startLink(
    ///     children: [.worker(id: "a") { try spawnLink { try await loop() } }],
    ///     strategy: .oneForOne, maxRestarts: 10, maxSeconds: 1, name: "app")
    /// ```
    ///
    /// - Throws: ``ProcessError/notInProcess(_:)`` outside a process (a
    ///   supervisor always has a parent: use ``withProcess(file:line:function:_:)``);
    ///   ``SupervisorError/startFailed(id:reason:)``;
    ///   ``SupervisorError/alreadyStarted(_:)`` if `name` is taken;
    ///   ``SupervisorError/duplicateChildId(_:)``; ``SupervisorError/invalidOption(_:)``
    ///   for a negative `maxRestarts` or a `maxSeconds` below 1.
    public static func startLink(
        children: [ChildSpec], strategy: Strategy, maxRestarts: Int = 3, maxSeconds: Int = 5, name: ProcessName? = nil
    ) async throws -> Pid {
        let configuration = Configuration(strategy: strategy, maxRestarts: maxRestarts, maxSeconds: maxSeconds, name: name)
        return try await Server.startLink(configuration, children: children, function: "Supervisor.startLink")
    }

    /// Adds a child after the existing ones and starts it.
    ///
    /// ```swift
    /// let pid = try await Supervisor.startChild(supervisor, .worker(id: "late") { try spawnLink { … } })
    /// ```
    ///
    /// - Throws: ``SupervisorError/alreadyStarted(_:)`` if a child with that
    ///   id runs, ``SupervisorError/alreadyPresent`` if it exists but does not
    ///   run, ``SupervisorError/startFailed(id:reason:)`` (the spec is not kept).
    public static func startChild(_ supervisor: Pid, _ spec: ChildSpec) async throws -> Pid {
        try await request(supervisor, StartChild(spec: spec))
    }

    /// Stops the child `id`. Its spec is kept, so ``restartChild(_:id:)-(Pid,_)``
    /// can start it again, unless it is temporary. Stopping a child that is not
    /// running does nothing.
    ///
    /// - Throws: ``SupervisorError/notFound``.
    public static func terminateChild(_ supervisor: Pid, id: String) async throws {
        try await request(supervisor, TerminateChild(id: id)) as Void
    }

    /// Starts again the child `id`, stopped by ``terminateChild(_:id:)-(Pid,_)``,
    /// and returns its new pid.
    ///
    /// - Throws: ``SupervisorError/notFound``, ``SupervisorError/running``,
    ///   ``SupervisorError/restarting``, ``SupervisorError/startFailed(id:reason:)``.
    @discardableResult
    public static func restartChild(_ supervisor: Pid, id: String) async throws -> Pid {
        try await request(supervisor, RestartChild(id: id))
    }

    /// Removes the spec of the child `id`, which must not be running.
    ///
    /// - Throws: ``SupervisorError/notFound``, ``SupervisorError/running``,
    ///   ``SupervisorError/restarting``.
    public static func deleteChild(_ supervisor: Pid, id: String) async throws {
        try await request(supervisor, DeleteChild(id: id)) as Void
    }

    /// The children, oldest first; a child that is not running has no pid.
    public static func whichChildren(_ supervisor: Pid) async throws -> [ChildInfo] {
        try await request(supervisor, WhichChildren())
    }

    /// How many children there are, running, and of each type.
    public static func countChildren(_ supervisor: Pid) async throws -> ChildCounts {
        try await request(supervisor, CountChildren())
    }

    /// Stops the supervisor: its children are stopped newest first, then it
    /// exits with `reason`. Returns once it has exited.
    ///
    /// - Throws: ``CallError/noproc`` if it is not alive, ``CallError/timeout``
    ///   if it has not exited within `timeout` (it goes on stopping).
    public static func stop(_ supervisor: Pid, reason: ExitReason = .normal, timeout: Timeout = .infinity) async throws {
        do {
            let _: Void = try await Calls.call(supervisor, Stop(reason: reason), timeout: timeout)
        } catch let error as CallError {
            // The supervisor never answers a stop: it exits, and its DOWN ends the call.
            guard case .exited(let exitReason) = error.kind, exitReason != .noproc else { throw error }
        }
    }

    /// Sends a request and unwraps the supervisor's answer.
    static func request<Value: Sendable>(_ supervisor: Pid, _ request: some Request) async throws -> Value {
        let result: Result<Value, SupervisorError> = try await Calls.call(supervisor, request, timeout: .infinity)
        return try result.get()
    }

    /// The supervisor registered under `name`.
    static func resolve(_ name: ProcessName) throws(CallError) -> Pid {
        guard let pid = name.whereis() else { throw .noproc }
        return pid
    }
}

// MARK: - By name

extension Supervisor {
    /// ``startChild(_:_:)-(Pid,_)`` for the supervisor registered as `name`.
    public static func startChild(_ name: ProcessName, _ spec: ChildSpec) async throws -> Pid {
        try await startChild(resolve(name), spec)
    }

    /// ``terminateChild(_:id:)-(Pid,_)`` for the supervisor registered as `name`.
    public static func terminateChild(_ name: ProcessName, id: String) async throws {
        try await terminateChild(resolve(name), id: id)
    }

    /// ``restartChild(_:id:)-(Pid,_)`` for the supervisor registered as `name`.
    @discardableResult
    public static func restartChild(_ name: ProcessName, id: String) async throws -> Pid {
        try await restartChild(resolve(name), id: id)
    }

    /// ``deleteChild(_:id:)-(Pid,_)`` for the supervisor registered as `name`.
    public static func deleteChild(_ name: ProcessName, id: String) async throws {
        try await deleteChild(resolve(name), id: id)
    }

    /// ``whichChildren(_:)-(Pid)`` for the supervisor registered as `name`.
    public static func whichChildren(_ name: ProcessName) async throws -> [ChildInfo] {
        try await whichChildren(resolve(name))
    }

    /// ``countChildren(_:)-(Pid)`` for the supervisor registered as `name`.
    public static func countChildren(_ name: ProcessName) async throws -> ChildCounts {
        try await countChildren(resolve(name))
    }

    /// ``stop(_:reason:timeout:)-(Pid,_,_)`` for the supervisor registered as `name`.
    public static func stop(_ name: ProcessName, reason: ExitReason = .normal, timeout: Timeout = .infinity) async throws {
        try await stop(resolve(name), reason: reason, timeout: timeout)
    }
}
