extension Supervisor {
    /// How a supervisor process is set up; ``Supervisor`` and
    /// ``DynamicSupervisor`` differ only here and in the requests they send.
    struct Configuration: Sendable {
        var strategy: Strategy
        var maxRestarts: Int
        var maxSeconds: Int
        var name: ProcessName?
        /// A limit on the number of children (DynamicSupervisor).
        var maxChildren: Int?
        /// A DynamicSupervisor: its children have no order (on exit all are
        /// asked at once) and it keeps only those that run or will run again.
        var isDynamic = false

        func validate() throws(SupervisorError) {
            guard maxRestarts >= 0 else { throw .invalidOption("maxRestarts must be 0 or more, not \(maxRestarts)") }
            guard maxSeconds >= 1 else { throw .invalidOption("maxSeconds must be 1 or more, not \(maxSeconds)") }
            if let maxChildren, maxChildren < 0 {
                throw .invalidOption("maxChildren must be 0 or more, not \(maxChildren)")
            }
        }
    }

    /// The call `startLink` makes to wait until the children are started.
    struct Startup: Sendable {}
    /// The call ``Supervisor/stop(_:reason:timeout:)-(Pid,_,_)`` makes; never answered.
    struct Stop: Sendable { let reason: ExitReason }
    /// A retry of a failed restart, queued behind the messages already waiting.
    struct RetryRestart: Sendable { let key: ChildKey }

    /// A call a supervisor serves; what `handle` returns is the reply.
    protocol Request: Sendable {
        func handle(_ server: inout Server) async throws -> any Sendable
    }

    /// A running supervisor: the loop of its process, which traps exits and
    /// owns the ``Core``. It carries out the core's actions, serves calls,
    /// and on its parent's exit signal stops its children and exits with the
    /// same reason.
    struct Server {
        var core: Core
        let configuration: Configuration
        let parent: Pid
        let me: Pid
        /// How reports name this supervisor.
        let label: String

        /// Spawns a supervisor linked to the caller and returns its pid once
        /// `children` have started.
        static func startLink(_ configuration: Configuration, children: [ChildSpec], function: String) async throws -> Pid {
            let parent = try ProcessCell.required(function).pid
            try configuration.validate()
            var ids = Set<String>()
            for child in children where !ids.insert(child.id).inserted { throw SupervisorError.duplicateChildId(child.id) }
            let pid = try spawnLink {
                try trapExits(true)
                var server = Server(configuration, parent: parent, me: try Pid.current)
                try await server.run(children)
            }
            let outcome: Result<Void, SupervisorError> = try await Calls.call(pid, Startup(), timeout: .infinity)
            try outcome.get()
            return pid
        }

        private init(_ configuration: Configuration, parent: Pid, me: Pid) {
            let intensity = RestartIntensity(maxRestarts: configuration.maxRestarts, maxSeconds: configuration.maxSeconds)
            self.core = Core(
                strategy: configuration.strategy, intensity: intensity,
                keepsStoppedChildren: !configuration.isDynamic)
            self.configuration = configuration
            self.parent = parent
            self.me = me
            self.label = configuration.name?.description ?? me.description
        }

        // MARK: Startup

        private mutating func run(_ children: [ChildSpec]) async throws {
            if let name = configuration.name, let refusal = register(name) {
                try await abortStartup(refusal, exit: .normal)
            }
            for spec in children {
                switch try await ChildStart.start(spec) {
                case .success(let pid):
                    // An ignored child keeps its spec, with no process (Elixir's `:undefined`).
                    core.children.add(spec, status: pid.map(ChildStatus.running) ?? .stopped)
                case .failure(let reason):
                    Report(.startError, ChildSummary(spec), pid: nil, reason: reason).log(supervisor: label)
                    try await stopChildren(core.terminateAll(), together: false)
                    try await abortStartup(.startFailed(id: spec.id, reason: reason), exit: .shutdown("failed_to_start_child"))
                }
            }
            try await serve()
        }

        /// Registers the supervisor's name; returns why it cannot be.
        private func register(_ name: ProcessName) -> SupervisorError? {
            while true {
                do {
                    try name.register(me)
                    return nil
                } catch {
                    if let holder = name.whereis() { return .alreadyStarted(holder) }
                    // Taken, but the holder exited since: try again.
                    if case .nameTaken = error.code { continue }
                    return .invalidOption("the name \(name) cannot be registered: \(error)")
                }
            }
        }

        private enum StartupWait { case caller(From), parentExited(ExitReason) }

        /// Answers `startLink` with `error` and exits without signalling the
        /// caller: it gets the error instead of an exit signal.
        private func abortStartup(_ error: SupervisorError, exit reason: ExitReason) async throws -> Never {
            let waited = try await receive { (message: any Sendable) -> StartupWait? in
                if let call = message as? CallMessage, call.request is Startup { return .caller(call.from) }
                if let exit = message as? ExitMessage, exit.from == parent { return .parentExited(exit.reason) }
                return nil
            }
            switch waited {
            case .caller(let caller):
                try unlink(parent)
                Calls.reply(caller, Result<Void, SupervisorError>.failure(error))
                throw reason
            case .parentExited(let parentReason):
                throw parentReason
            }
        }

        // MARK: The loop

        private mutating func serve() async throws -> Never {
            while true {
                let message = try await receive { (message: any Sendable) in message }
                switch message {
                case let exit as ExitMessage where exit.from == parent:
                    try await exitWithChildren(exit.reason)
                case let exit as ExitMessage:
                    try await perform(core.childExited(exit.from, reason: exit.reason, at: .now))
                case let retry as RetryRestart:
                    try await perform(core.retry(retry.key, at: .now))
                case let call as CallMessage:
                    try await answer(call)
                case let stop as StopRequest:
                    // GenServer.stop's request works on supervisors too, as in Elixir.
                    try await exitWithChildren(stop.reason)
                default:
                    Report.unexpected(message, supervisor: label)
                }
            }
        }

        private mutating func answer(_ call: CallMessage) async throws {
            switch call.request {
            case is Startup:
                Calls.reply(call.from, Result<Void, SupervisorError>.success(()))
            case let stop as Stop:
                try await exitWithChildren(stop.reason)
            case let request as any Request:
                Calls.reply(call.from, try await request.handle(&self))
            default:
                Report.unexpected(call.request, supervisor: label)
                Calls.reply(call.from, Result<Void, SupervisorError>.failure(SupervisorError(code: .unexpectedRequest(inspect(call.request)))))
            }
        }

        /// Carries out the core's actions in order.
        mutating func perform(_ actions: [Core.Action]) async throws {
            for action in actions {
                switch action {
                case .report(let report): report.log(supervisor: label)
                case .terminate(let terminations): try await stopChildren(terminations, together: false)
                case .start(let keys): try await restart(keys)
                case .retryLater(let key): send(me, RetryRestart(key: key))
                case .giveUp: try await exitWithChildren(.shutdown)
                }
            }
        }

        /// Starts children again in order, up to the first that fails.
        private mutating func restart(_ keys: [ChildKey]) async throws {
            for key in keys {
                guard let spec = core.children[key]?.spec else { continue }
                switch try await ChildStart.start(spec) {
                case .success(let pid?):
                    core.started(key, pid: pid)
                case .success(nil):
                    // Ignored on restart: no process; a dynamic supervisor forgets it.
                    if configuration.isDynamic { core.children.remove(key) } else { core.children.setStatus(.stopped, of: key) }
                case .failure(let reason):
                    try await perform(core.restartFailed(key, reason: reason))
                    return
                }
            }
        }

        // MARK: Children on request

        /// Starts a new child after the others (`startChild`).
        mutating func startNewChild(_ spec: ChildSpec) async throws -> Result<Pid, SupervisorError> {
            if let maxChildren = configuration.maxChildren, core.children.count >= maxChildren {
                return .failure(.maxChildren)
            }
            let started = try await ChildStart.onRequest(spec)
            switch started {
            case .success(let pid):
                core.children.add(spec, status: .running(pid))
            case .failure(.ignored) where !configuration.isDynamic:
                // A static supervisor keeps an ignored child's spec, with no process.
                core.children.add(spec, status: .stopped)
            case .failure:
                break
            }
            return started
        }

        /// Stops one child on request (`terminateChild`); a nil `key` is a
        /// child the caller named that does not exist.
        mutating func terminate(_ key: ChildKey?, forgetting: Bool) async throws -> Result<Void, SupervisorError> {
            guard let key else { return .failure(.notFound) }
            if let termination = core.stop(key, forgetting: forgetting) {
                try await stopChildren([termination], together: false)
            }
            return .success(())
        }

        // MARK: Exit

        /// Stops every child (newest first, or all at once for a dynamic
        /// supervisor), then exits with `reason`.
        private mutating func exitWithChildren(_ reason: ExitReason) async throws -> Never {
            try await stopChildren(core.terminateAll(), together: configuration.isDynamic)
            throw reason
        }

        private func stopChildren(_ terminations: [Termination], together: Bool) async throws {
            let failures =
                together
                ? try await ChildShutdown.stopTogether(terminations)
                : try await ChildShutdown.stopInOrder(terminations)
            for failure in failures {
                Report(.shutdownError, failure.termination.child, pid: failure.termination.pid, reason: failure.reason)
                    .log(supervisor: label)
            }
        }
    }

    /// Runs a child's start function in the supervisor's process.
    enum ChildStart {
        /// Returns the child's pid, or nil if its start returned
        /// ``StartError/ignored`` (Elixir's `:ignore`).
        static func start(_ spec: ChildSpec) async throws -> Result<Pid?, ExitReason> {
            let pid: Pid
            do {
                pid = try await spec.start()
            } catch let error as StartError where error == .ignored {
                return .success(nil)
            } catch {
                // The supervisor itself was killed while the child started: unwind.
                guard ProcessCell.current?.isAlive ?? false else { throw error }
                return .failure(.error(error))
            }
            // Supervise it even if `start` did not link: linking again changes
            // nothing, and a child already gone arrives as an exit message.
            try link(pid)
            return .success(pid)
        }

        /// Starts a child on request (`startChild`, `restartChild`), where an
        /// ignored or failed start is the caller's error.
        static func onRequest(_ spec: ChildSpec) async throws -> Result<Pid, SupervisorError> {
            switch try await start(spec) {
            case .success(let pid?): .success(pid)
            case .success(nil): .failure(.ignored)
            case .failure(let reason): .failure(.startFailed(id: spec.id, reason: reason))
            }
        }
    }
}
