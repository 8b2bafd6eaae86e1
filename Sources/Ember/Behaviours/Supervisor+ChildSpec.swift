extension Supervisor {
    /// How a supervisor starts a child and looks after it: Elixir's child
    /// specification.
    ///
    /// `start` runs inside the supervisor's process and must start a process
    /// *linked to its caller* (the supervisor) and return its pid, the way
    /// every `startLink` does. If it throws, the child failed to start.
    ///
    /// ```swift
    /// let cache = Supervisor.ChildSpec.worker(id: "cache") {
    ///     try spawnLink { try await cacheLoop() }
    /// }
    /// let counter = Supervisor.ChildSpec.worker(id: "counter", restart: .transient) {
    ///     try await Counter.startLink(0)
    /// }
    /// ```
    public struct ChildSpec: Sendable {
        /// Names the child among its supervisor's children (Elixir's `:id`).
        public var id: String
        /// Starts the child, linked to the caller, and returns its pid.
        public var start: @Sendable () async throws -> Pid
        /// When the child is restarted; ``Restart/permanent`` by default.
        public var restart: Restart
        /// How the child is stopped: 5 seconds for workers, ``Shutdown/infinity``
        /// for supervisors by default.
        public var shutdown: Shutdown
        /// Whether the child is a worker or a supervisor.
        public var type: ChildType

        /// A child specification. `shutdown` defaults to 5,000 ms for a worker
        /// and ``Shutdown/infinity`` for a supervisor, as in Elixir.
        public init(
            id: String, restart: Restart = .permanent, shutdown: Shutdown? = nil, type: ChildType = .worker,
            start: @escaping @Sendable () async throws -> Pid
        ) {
            self.id = id
            self.start = start
            self.restart = restart
            self.type = type
            self.shutdown = shutdown ?? (type == .supervisor ? .infinity : .timeout(5_000))
        }

        /// A worker: by default permanent, given 5 seconds to shut down.
        ///
        /// ```swift
        /// .worker(id: "pinger") { try spawnLink { try await pingLoop() } }
        /// ```
        public static func worker(
            id: String, restart: Restart = .permanent, shutdown: Shutdown = .timeout(5_000),
            start: @escaping @Sendable () async throws -> Pid
        ) -> ChildSpec {
            ChildSpec(id: id, restart: restart, shutdown: shutdown, type: .worker, start: start)
        }

        /// A supervisor child: by default permanent, given all the time it
        /// needs to stop its own children.
        ///
        /// ```swift
        /// .supervisor(id: "workers") {
        ///     try await Supervisor.startLink(children: workers, strategy: .oneForOne)
        /// }
        /// ```
        public static func supervisor(
            id: String, restart: Restart = .permanent, shutdown: Shutdown = .infinity,
            start: @escaping @Sendable () async throws -> Pid
        ) -> ChildSpec {
            ChildSpec(id: id, restart: restart, shutdown: shutdown, type: .supervisor, start: start)
        }
    }

    /// When a child that exited is started again (Elixir's `:restart`).
    public struct Restart: Sendable, Hashable, CustomStringConvertible {
        enum Kind: Sendable, Hashable { case permanent, transient, temporary }
        let kind: Kind

        /// Always restarted.
        public static let permanent = Restart(kind: .permanent)
        /// Restarted only if it exits abnormally: not `normal`, `shutdown` or `{:shutdown, _}`.
        public static let transient = Restart(kind: .transient)
        /// Never restarted; its spec is forgotten once it exits.
        public static let temporary = Restart(kind: .temporary)

        public var description: String {
            switch kind {
            case .permanent: ":permanent"
            case .transient: ":transient"
            case .temporary: ":temporary"
            }
        }
    }

    /// How a child is stopped (Elixir's `:shutdown`).
    public struct Shutdown: Sendable, Hashable, CustomStringConvertible {
        enum Kind: Sendable, Hashable { case brutalKill, timeout(milliseconds: Int), infinity }
        let kind: Kind

        /// Killed at once with an untrappable `kill`.
        public static let brutalKill = Shutdown(kind: .brutalKill)
        /// Sent `shutdown`, and killed if it has not exited after `milliseconds`
        /// (negative values count as 0).
        public static func timeout(_ milliseconds: Int) -> Shutdown {
            Shutdown(kind: .timeout(milliseconds: max(0, milliseconds)))
        }
        /// Sent `shutdown` and waited for as long as it takes: the default for
        /// supervisors, which first stop their own children.
        public static let infinity = Shutdown(kind: .infinity)

        public var description: String {
            switch kind {
            case .brutalKill: ":brutal_kill"
            case .timeout(let milliseconds): "\(milliseconds)"
            case .infinity: ":infinity"
            }
        }
    }

    /// Whether a child is a worker or a supervisor (Elixir's `:type`).
    public struct ChildType: Sendable, Hashable, CustomStringConvertible {
        enum Kind: Sendable, Hashable { case worker, supervisor }
        let kind: Kind

        /// Any process that is not a supervisor.
        public static let worker = ChildType(kind: .worker)
        /// A supervisor (``Supervisor`` or ``DynamicSupervisor``).
        public static let supervisor = ChildType(kind: .supervisor)

        public var description: String { kind == .worker ? ":worker" : ":supervisor" }
    }

    /// A child as ``Supervisor/whichChildren(_:)-(Pid)`` reports it.
    public struct ChildInfo: Sendable, Hashable, CustomStringConvertible {
        /// The child's id (for a ``DynamicSupervisor`` child, its spec's id).
        public let id: String
        /// Its pid, or nil while it is not running (terminated, or restarting).
        public let pid: Pid?
        /// Worker or supervisor.
        public let type: ChildType
        /// True while its restart failed and another attempt is due (Elixir's `:restarting`).
        public let isRestarting: Bool

        public init(id: String, pid: Pid?, type: ChildType, isRestarting: Bool = false) {
            self.id = id
            self.pid = pid
            self.type = type
            self.isRestarting = isRestarting
        }

        public var description: String {
            "{\(inspect(id)), \(pid.map(\.description) ?? (isRestarting ? ":restarting" : ":undefined")), \(type)}"
        }
    }

    /// What ``Supervisor/countChildren(_:)-(Pid)`` reports.
    public struct ChildCounts: Sendable, Hashable, CustomStringConvertible {
        /// Every child, running or not.
        public let specs: Int
        /// The children whose process is running.
        public let active: Int
        /// The children of type supervisor, running or not.
        public let supervisors: Int
        /// The children of type worker, running or not.
        public let workers: Int

        public init(specs: Int, active: Int, supervisors: Int, workers: Int) {
            self.specs = specs
            self.active = active
            self.supervisors = supervisors
            self.workers = workers
        }

        public var description: String {
            "%{active: \(active), specs: \(specs), supervisors: \(supervisors), workers: \(workers)}"
        }
    }
}
