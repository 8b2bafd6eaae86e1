// Collecting a task's result: Elixir's Task.await, yield, shutdown and ignore.

extension ProcessTask {
    /// Waits for the task's result (Elixir's `Task.await/2`).
    ///
    /// ```swift
    /// let task = try Tasks.async { 6 * 7 }
    /// let answer = try await task.value()      // 42
    /// ```
    ///
    /// - Throws: ``TaskError/timeout`` if no reply came within `timeout`
    ///   (the task runs on, and may still be awaited or yielded);
    ///   ``TaskError/exited(_:)`` if the task exited first;
    ///   ``TaskError/notOwner`` if the caller did not start the task;
    ///   ``ProcessError/notInProcess(_:)`` outside a process.
    ///   Uncaught, these end the caller, and the linked task with it.
    public func value(timeout: Timeout = 5_000) async throws -> Success {
        let me = try ownerCell("ProcessTask.value")
        switch try await receiveOutcome(me, timeout: timeout) {
        case .ok(let value)?: return value
        case .exit(let reason)?: throw TaskError.exited(reason)
        case nil: throw TaskError.timeout
        }
    }

    /// Waits up to `timeout` for the task to finish (Elixir's `Task.yield/2`).
    /// Returns nil if it is still running: it may be yielded again later.
    ///
    /// ```swift
    /// switch try await task.yield(timeout: 1_000) ?? task.shutdown() {
    /// case .ok(let value)?: use(value)
    /// case .exit(let reason)?: print("failed: \(reason)")
    /// case nil: print("gave up after 1s")
    /// }
    /// ```
    ///
    /// - Throws: ``TaskError/notOwner``; ``ProcessError/notInProcess(_:)``.
    public func yield(timeout: Timeout = 5_000) async throws -> TaskOutcome<Success>? {
        try await receiveOutcome(ownerCell("ProcessTask.yield"), timeout: timeout)
    }

    /// Stops the task (Elixir's `Task.shutdown/2`): unlinks it, sends it
    /// `shutdown` and waits for it to exit, killing it if it has not exited
    /// after the shutdown timeout (``Supervisor/Shutdown/brutalKill`` kills it
    /// at once).
    ///
    /// Returns `.ok(value)` if its reply arrived before it stopped,
    /// `.exit(reason)` if it had exited for another reason, nil if it was
    /// stopped.
    ///
    /// - Throws: ``TaskError/notOwner``; ``ProcessError/notInProcess(_:)``.
    @discardableResult
    public func shutdown(_ shutdown: Supervisor.Shutdown = .timeout(5_000)) async throws -> TaskOutcome<Success>? {
        let me = try ownerCell("ProcessTask.shutdown")
        guard pid != .external else { return try await receiveOutcome(me, timeout: 0) }
        try unlink(pid)
        let signal: ExitReason
        let grace: Timeout
        switch shutdown.kind {
        case .brutalKill: (signal, grace) = (.kill, .infinity)
        case .timeout(let milliseconds): (signal, grace) = (.shutdown, .milliseconds(milliseconds))
        case .infinity: (signal, grace) = (.shutdown, .infinity)
        }
        pid.exit(signal)
        var outcome = try await receiveOutcome(me, timeout: grace)
        if outcome == nil {
            pid.exit(.kill)
            outcome = try await receiveOutcome(me, timeout: .infinity)
        }
        if case .exit(let reason)? = outcome, reason == .shutdown || reason == .killed { return nil }
        return outcome
    }

    /// Stops waiting for the task, which runs on (Elixir's `Task.ignore/1`):
    /// its reply and exit will not reach the owner, and it is unlinked.
    ///
    /// Returns `.ok(value)` or `.exit(reason)` if the task had already
    /// finished, nil otherwise.
    ///
    /// - Throws: ``TaskError/notOwner``; ``ProcessError/notInProcess(_:)``.
    @discardableResult
    public func ignore() async throws -> TaskOutcome<Success>? {
        let me = try ownerCell("ProcessTask.ignore")
        // From here on a reply is dropped; one already delivered is looked at below.
        me.withState { $0.deactivateAlias(ref) }
        let outcome = try await receiveOutcome(me, timeout: 0)
        try demonitor(ref, flush: true)
        if pid != .external { try unlink(pid) }
        return outcome
    }

    /// The calling process, if it owns the task.
    func ownerCell(_ function: String) throws -> ProcessCell {
        let me = try ProcessCell.required(function)
        guard me.pid == owner else { throw TaskError.notOwner }
        return me
    }

    /// Takes the task's reply or its DOWN message from the mailbox, waiting
    /// up to `timeout`. After a reply the monitor is removed; after the DOWN
    /// the alias is.
    func receiveOutcome(_ me: ProcessCell, timeout: Timeout) async throws -> TaskOutcome<Success>? {
        let arrival = try await receive(after: timeout) { (message: any Sendable) in
            TaskArrival(message, ref: ref)
        }
        return try arrival.map { try settle($0, me) }
    }

    /// Cleans up after the task's reply or DOWN and says how it ended.
    func settle(_ arrival: TaskArrival, _ me: ProcessCell) throws -> TaskOutcome<Success> {
        switch arrival {
        case .reply(let value):
            try demonitor(ref, flush: true)
            guard let typed = cast(value, to: Success.self) else {
                throw TaskError(kind: .unexpectedReply(String(describing: type(of: value))))
            }
            return .ok(typed)
        case .down(let reason):
            me.withState { $0.deactivateAlias(ref) }
            return .exit(reason)
        }
    }
}

/// What a task sends its owner: a reply or, through the monitor, its DOWN.
enum TaskArrival {
    case reply(any Sendable)
    case down(ExitReason)

    /// The arrival `message` is for the task `ref`, if it is one.
    init?(_ message: any Sendable, ref: Reference) {
        if let reply = message as? CallReply, reply.ref == ref {
            self = .reply(reply.value)
        } else if let down = message as? DownMessage, down.ref == ref {
            self = .down(down.reason)
        } else {
            return nil
        }
    }

    /// The task among `refs` the message is for, and what it says.
    static func any(_ message: any Sendable, among refs: [Reference: Int]) -> (Int, TaskArrival)? {
        if let reply = message as? CallReply, let index = refs[reply.ref] { return (index, .reply(reply.value)) }
        if let down = message as? DownMessage, let index = refs[down.ref] { return (index, .down(down.reason)) }
        return nil
    }
}

extension Tasks {
    /// Waits for all `tasks`, within `timeout` in all, and returns their
    /// results in order (Elixir's `Task.await_many/2`).
    ///
    /// ```swift
    /// let squares = try await Tasks.awaitMany((1...3).map { n in try Tasks.async { n * n } })
    /// ```
    ///
    /// - Throws: ``TaskError/exited(_:)`` as soon as one task exits without
    ///   replying; ``TaskError/timeout`` if they have not all replied in time;
    ///   ``TaskError/notOwner`` if the caller does not own them all.
    public static func awaitMany<Success>(_ tasks: [ProcessTask<Success>], timeout: Timeout = 5_000) async throws -> [Success] {
        let outcomes = try await collect(tasks, timeout: timeout, function: "Tasks.awaitMany") { outcome in
            if case .exit(let reason) = outcome { throw TaskError.exited(reason) }
        }
        var values: [Success] = []
        for outcome in outcomes {
            guard let value = outcome?.value else { throw TaskError.timeout }
            values.append(value)
        }
        return values
    }

    /// Waits up to `timeout` in all for `tasks` and returns how each ended,
    /// in order; nil for those still running (Elixir's `Task.yield_many/2`).
    ///
    /// ```swift
    /// let outcomes = try await Tasks.yieldMany(tasks, timeout: 1_000)
    /// for (task, outcome) in zip(tasks, outcomes) where outcome == nil { try await task.shutdown(.brutalKill) }
    /// ```
    ///
    /// - Throws: ``TaskError/notOwner`` if the caller does not own them all.
    public static func yieldMany<Success>(_ tasks: [ProcessTask<Success>], timeout: Timeout = 5_000) async throws -> [TaskOutcome<Success>?] {
        try await collect(tasks, timeout: timeout, function: "Tasks.yieldMany") { _ in }
    }

    /// Gathers outcomes of `tasks` until all are in or the deadline passes;
    /// `check` may throw to stop early.
    static func collect<Success>(
        _ tasks: [ProcessTask<Success>], timeout: Timeout, function: String,
        check: (TaskOutcome<Success>) throws -> Void
    ) async throws -> [TaskOutcome<Success>?] {
        let me = try ProcessCell.required(function)
        guard tasks.allSatisfy({ $0.owner == me.pid }) else { throw TaskError.notOwner }
        var pending: [Reference: Int] = [:]
        for (index, task) in tasks.enumerated() { pending[task.ref] = index }
        var outcomes = [TaskOutcome<Success>?](repeating: nil, count: tasks.count)
        let deadline = timeout.nanoseconds.map { ContinuousClock.now + .nanoseconds($0) }
        while !pending.isEmpty {
            let remaining = deadline.map { Timeout(max(.zero, $0 - ContinuousClock.now)) } ?? .infinity
            let lookingFor = pending
            guard let (index, arrival) = try await receive(after: remaining, { (message: any Sendable) in
                TaskArrival.any(message, among: lookingFor)
            }) else { break }
            pending[tasks[index].ref] = nil
            let outcome = try tasks[index].settle(arrival, me)
            outcomes[index] = outcome
            try check(outcome)
        }
        return outcomes
    }
}
