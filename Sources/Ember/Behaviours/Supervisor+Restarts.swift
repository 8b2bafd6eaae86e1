import DequeModule

extension Supervisor {
    /// The restart intensity: more than `maxRestarts` restarts within
    /// `period` and the supervisor gives up (Elixir's `:max_restarts` in
    /// `:max_seconds`).
    struct RestartIntensity: Sendable {
        let maxRestarts: Int
        let period: Duration
        /// Times of the restarts still inside the period, oldest first. Never
        /// more than `maxRestarts + 1`: one more and the supervisor gives up.
        private var recent: Deque<ContinuousClock.Instant> = []

        init(maxRestarts: Int, maxSeconds: Int) {
            self.maxRestarts = maxRestarts
            self.period = .seconds(maxSeconds)
        }

        /// Counts a restart made at `now`; false if it is one too many.
        mutating func allowsRestart(at now: ContinuousClock.Instant) -> Bool {
            recent.append(now)
            while let oldest = recent.first, now - oldest > period { recent.removeFirst() }
            return recent.count <= maxRestarts
        }
    }

    /// A running child to stop, and how to stop it.
    struct Termination: Sendable, Equatable {
        let pid: Pid
        let child: ChildSummary
    }

    /// The pure part of a supervisor: its children, strategy and intensity.
    /// Events go in, the actions the supervisor's process must carry out come
    /// out, in order; the process reports back what starting a child gave.
    struct Core: Sendable {
        enum Action: Sendable, Equatable {
            /// Log this report.
            case report(Report)
            /// Stop these children one after the other, in this order.
            case terminate([Termination])
            /// Start these children in this order, up to the first that fails
            /// (then ``restartFailed(_:reason:)`` says what next).
            case start([ChildKey])
            /// Try this child's restart again once the mailbox is served.
            case retryLater(ChildKey)
            /// Too many restarts: stop every child and exit with `shutdown`.
            case giveUp
        }

        var children = ChildTable()
        let strategy: Strategy
        private(set) var intensity: RestartIntensity
        /// Whether a child that will not run again keeps its spec (Supervisor)
        /// or is dropped (DynamicSupervisor, whose children are only its running ones).
        let keepsStoppedChildren: Bool

        init(strategy: Strategy, intensity: RestartIntensity, keepsStoppedChildren: Bool = true) {
            self.strategy = strategy
            self.intensity = intensity
            self.keepsStoppedChildren = keepsStoppedChildren
        }

        /// A linked process exited. Not a child: nothing to do.
        mutating func childExited(_ pid: Pid, reason: ExitReason, at now: ContinuousClock.Instant) -> [Action] {
            guard let key = children.key(of: pid), let record = children[key] else { return [] }
            var actions: [Action] = []
            if record.spec.restart.reportsExit(reason) {
                actions.append(.report(Report(.childTerminated, record.summary, pid: pid, reason: reason)))
            }
            guard record.spec.restart.restarts(after: reason) else {
                forget(key)
                return actions
            }
            return actions + restart(key, pid: pid, at: now)
        }

        /// The retry queued by ``Action/retryLater(_:)`` is due. Nothing to do
        /// if the child is no longer waiting for it (terminated, or restarted
        /// along with a sibling meanwhile).
        mutating func retry(_ key: ChildKey, at now: ContinuousClock.Instant) -> [Action] {
            guard children[key]?.status == .restarting else { return [] }
            return restart(key, pid: nil, at: now)
        }

        /// A child of a ``Action/start(_:)`` started.
        mutating func started(_ key: ChildKey, pid: Pid) {
            children.setStatus(.running(pid), of: key)
        }

        /// A child of a ``Action/start(_:)`` failed to start: it waits as
        /// restarting for another attempt, which counts as a restart.
        mutating func restartFailed(_ key: ChildKey, reason: ExitReason) -> [Action] {
            guard let record = children[key] else { return [] }
            children.setStatus(.restarting, of: key)
            return [.report(Report(.startError, record.summary, pid: nil, reason: reason)), .retryLater(key)]
        }

        /// Takes a child out of service on request: returns what to stop if it
        /// runs. Its spec is kept (stopped) unless `forgetting`, or unless it
        /// is temporary.
        mutating func stop(_ key: ChildKey, forgetting: Bool) -> Termination? {
            guard let record = children[key] else { return nil }
            if forgetting { children.remove(key) } else { forget(key) }
            return record.pid.map { Termination(pid: $0, child: record.summary) }
        }

        /// The supervisor is exiting: every running child, newest first.
        mutating func terminateAll() -> [Termination] {
            var terminations: [Termination] = []
            for key in children.keysInStartOrder.reversed() {
                if let termination = stop(key, forgetting: false) { terminations.append(termination) }
            }
            return terminations
        }

        /// A child that will not run again: a temporary one is removed, any
        /// other keeps its spec if stopped children are kept.
        private mutating func forget(_ key: ChildKey) {
            guard let record = children[key] else { return }
            if record.spec.restart == .temporary || !keepsStoppedChildren {
                children.remove(key)
            } else {
                children.setStatus(.stopped, of: key)
            }
        }

        /// Restarts `key` (exited, or restarting) and whatever the strategy adds to it,
        /// if the intensity allows one more restart.
        private mutating func restart(_ key: ChildKey, pid: Pid?, at now: ContinuousClock.Instant) -> [Action] {
            guard let record = children[key] else { return [] }
            children.setStatus(.stopped, of: key)
            guard intensity.allowsRestart(at: now) else {
                return [.report(Report(.reachedMaxIntensity, record.summary, pid: pid, reason: "reached_max_restart_intensity")), .giveUp]
            }
            let affected = strategy.affected(by: key, among: children.keysInStartOrder)
            var terminations: [Termination] = []
            for other in affected.reversed() where other != key {
                // Stopped as part of the restart: temporary siblings go for good.
                if let termination = stop(other, forgetting: false) { terminations.append(termination) }
            }
            let starts = affected.filter { children[$0] != nil }
            return (terminations.isEmpty ? [] : [.terminate(terminations)]) + [.start(starts)]
        }
    }
}

extension Supervisor.Restart {
    /// Whether a child that exited with `reason` is started again.
    func restarts(after reason: ExitReason) -> Bool {
        switch kind {
        case .permanent: true
        case .transient: !reason.isOrderly
        case .temporary: false
        }
    }

    /// Whether its exit is reported: a crash always, any exit of a permanent
    /// child (it was not supposed to stop), as OTP does.
    func reportsExit(_ reason: ExitReason) -> Bool {
        kind == .permanent || !reason.isOrderly
    }
}

extension Supervisor.Strategy {
    /// The children a restart of `failed` involves, in start order: itself
    /// (one for one), everyone (one for all), or itself and every child
    /// started after it (rest for one).
    func affected(by failed: Supervisor.ChildKey, among keys: [Supervisor.ChildKey]) -> [Supervisor.ChildKey] {
        switch kind {
        case .oneForOne: [failed]
        case .oneForAll: keys
        case .restForOne: keys.filter { $0 >= failed }
        }
    }
}
