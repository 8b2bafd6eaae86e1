extension Supervisor {
    /// A child that did not stop the way it was asked to, and the reason it
    /// exited with instead: reported as "shut down abnormally".
    struct ShutdownFailure: Sendable, Equatable {
        let termination: Termination
        let reason: ExitReason
    }

    /// Stops children the way OTP's supervisors do. Each child is monitored
    /// and sent an exit signal: `shutdown`, or `kill` at once for
    /// ``Shutdown/brutalKill``. One that has not exited when its timeout
    /// passes is killed; ``Shutdown/infinity`` waits for as long as it takes.
    ///
    /// The links stay in place until each child is down: if the supervisor
    /// itself is killed meanwhile, the children still hear of it. Runs in
    /// the supervisor's process, which traps exits.
    enum ChildShutdown {
        /// Stops the children one after the other, in the given order: each
        /// is down before the next is asked.
        static func stopInOrder(_ terminations: [Termination]) async throws -> [ShutdownFailure] {
            var failures: [ShutdownFailure] = []
            for termination in terminations {
                failures += try await stopTogether([termination])
            }
            return failures
        }

        /// Asks all the children at once and waits until every one is down
        /// (DynamicSupervisor's way: its children have no order).
        static func stopTogether(_ terminations: [Termination]) async throws -> [ShutdownFailure] {
            var waiting: [Reference: Termination] = [:]
            var deadlines: [(at: ContinuousClock.Instant, ref: Reference)] = []
            let start = ContinuousClock.now
            for termination in terminations {
                let ref = try monitor(termination.pid)
                waiting[ref] = termination
                switch termination.child.shutdown.kind {
                case .brutalKill:
                    termination.pid.exit(.kill)
                case .infinity:
                    termination.pid.exit(.shutdown)
                case .timeout(let milliseconds):
                    termination.pid.exit(.shutdown)
                    deadlines.append((start + .milliseconds(milliseconds), ref))
                }
            }
            deadlines.sort { $0.at < $1.at }
            var next = 0  // the first deadline not yet acted on
            var failures: [ShutdownFailure] = []
            while !waiting.isEmpty {
                while next < deadlines.count, waiting[deadlines[next].ref] == nil { next += 1 }
                let timeout = next < deadlines.count ? Timeout(deadlines[next].at - .now) : .infinity
                let down = try await receive(after: timeout) { (message: DownMessage) in
                    waiting[message.ref] == nil ? nil : message
                }
                guard let down else {
                    // Time is up: kill every child whose timeout has passed.
                    let now = ContinuousClock.now
                    while next < deadlines.count, deadlines[next].at <= now {
                        waiting[deadlines[next].ref]?.pid.exit(.kill)
                        next += 1
                    }
                    continue
                }
                guard let termination = waiting.removeValue(forKey: down.ref) else { continue }
                let reason = try await unlinkAndFlush(termination.pid, downReason: down.reason)
                if !isClean(reason, for: termination.child) {
                    failures.append(ShutdownFailure(termination: termination, reason: reason))
                }
            }
            return failures
        }

        /// Removes the link to a child that is down and takes its exit
        /// message, whose reason is the real one if the child had already
        /// exited before it was asked (the monitor then says `noproc`). Links
        /// fire before monitors, so that message is already here.
        private static func unlinkAndFlush(_ pid: Pid, downReason: ExitReason) async throws -> ExitReason {
            try unlink(pid)
            let exit = try await receive(after: 0) { (message: ExitMessage) in message.from == pid ? message : nil }
            return exit?.reason ?? downReason
        }

        /// Whether a child stopped the way it was asked to: `shutdown` (or
        /// `{:shutdown, _}`), `killed` when killing it was the plan, or
        /// `normal` when it was not supposed to run for ever anyway.
        static func isClean(_ reason: ExitReason, for child: ChildSummary) -> Bool {
            if reason == .killed { return child.shutdown == .brutalKill }
            if reason == .normal { return child.restart != .permanent }
            return reason.isOrderly
        }
    }
}
