// Tasks.asyncStream: Elixir's Task.async_stream, run to completion.

extension Tasks {
    /// What ``Tasks/asyncStream(_:maxConcurrency:ordered:timeout:onTimeout:file:line:function:_:)``
    /// does when a task runs past its timeout (Elixir's `:on_timeout`).
    public struct OnTimeout: Sendable, Hashable, CustomStringConvertible {
        enum Kind: Sendable, Hashable { case exit, killTask }
        let kind: Kind

        /// Kill every task still running and throw ``TaskError/timeout``
        /// (uncaught, the caller exits, as in Elixir).
        public static let exit = OnTimeout(kind: .exit)
        /// Kill the task that timed out and report `.exit("timeout")` for its element.
        public static let killTask = OnTimeout(kind: .killTask)

        public var description: String { kind == .exit ? ":exit" : ":kill_task" }
    }

    /// Runs `body` on every element, each in its own task linked to the
    /// caller, at most `maxConcurrency` at a time, and returns how each
    /// ended (Elixir's `Task.async_stream/3`, consumed whole).
    ///
    /// - Parameters:
    ///   - maxConcurrency: how many tasks run at once (values below 1 count
    ///     as 1); by default one per scheduler thread.
    ///   - ordered: results in the order of the elements (the default), or
    ///     in the order the tasks finished.
    ///   - timeout: how long each task may run, from its start.
    ///   - onTimeout: what happens when one runs longer.
    ///
    /// ```swift
    /// let sizes = try await Tasks.asyncStream(urls, maxConcurrency: 4) { url in try await download(url).count }
    /// for case .ok(let size) in sizes { total += size }
    /// ```
    ///
    /// A task that crashes takes the caller down, as its tasks are linked;
    /// a caller that traps exits gets `.exit(reason)` for that element.
    ///
    /// - Throws: ``TaskError/timeout`` with ``OnTimeout/exit``;
    ///   ``ProcessError/notInProcess(_:)`` outside a process.
    public static func asyncStream<Element: Sendable, Result: Sendable>(
        _ elements: some Sequence<Element>, maxConcurrency: Int = EmberRuntime.schedulerCount,
        ordered: Bool = true, timeout: Timeout = 5_000, onTimeout: OnTimeout = .exit,
        file: StaticString = #fileID, line: UInt = #line, function: String = #function,
        _ body: @escaping @Sendable (Element) async throws -> Result
    ) async throws -> [TaskOutcome<Result>] {
        let me = try ProcessCell.required("Tasks.asyncStream")
        var stream = StreamRun<Result>(ordered: ordered)
        var inputs = Array(elements).enumerated().makeIterator()
        let limit = max(1, maxConcurrency)
        while true {
            while stream.running.count < limit, let (index, element) = inputs.next() {
                let task = try async(file: file, line: line, function: function) { try await body(element) }
                stream.started(task, index: index, deadline: timeout.nanoseconds.map { ContinuousClock.now + .nanoseconds($0) })
            }
            if stream.running.isEmpty { break }
            let lookingFor = stream.refs
            if let (index, arrival) = try await receive(after: stream.untilNextDeadline(), { (message: any Sendable) in
                TaskArrival.any(message, among: lookingFor)
            }) {
                let task = stream.finished(index)
                stream.record(try task.settle(arrival, me), index: index)
                continue
            }
            let overdue = stream.overdue()
            if onTimeout == .exit, !overdue.isEmpty {
                for (_, task) in overdue + stream.runningTasks() { try await task.shutdown(.brutalKill) }
                throw TaskError.timeout
            }
            for (index, task) in overdue {
                // A reply that came in just before the kill still counts.
                let outcome = try await task.shutdown(.brutalKill)
                stream.record(outcome ?? .exit("timeout"), index: index)
            }
        }
        return stream.results()
    }
}

/// The bookkeeping of one ``Tasks/asyncStream(_:maxConcurrency:ordered:timeout:onTimeout:file:line:function:_:)``:
/// the tasks running, their deadlines, and the results so far.
struct StreamRun<Result: Sendable> {
    let ordered: Bool
    private(set) var running: [Int: (task: ProcessTask<Result>, deadline: ContinuousClock.Instant?)] = [:]
    private(set) var refs: [Reference: Int] = [:]
    private var byIndex: [Int: TaskOutcome<Result>] = [:]
    private var inCompletionOrder: [TaskOutcome<Result>] = []

    init(ordered: Bool) { self.ordered = ordered }

    mutating func started(_ task: ProcessTask<Result>, index: Int, deadline: ContinuousClock.Instant?) {
        running[index] = (task, deadline)
        refs[task.ref] = index
    }

    /// Forgets the running task of `index` and returns it.
    mutating func finished(_ index: Int) -> ProcessTask<Result> {
        // `index` comes from `refs`, which has an entry only while the task runs.
        let task = running.removeValue(forKey: index)!.task
        refs[task.ref] = nil
        return task
    }

    mutating func record(_ outcome: TaskOutcome<Result>, index: Int) {
        byIndex[index] = outcome
        inCompletionOrder.append(outcome)
    }

    /// How long until the earliest deadline of a running task.
    func untilNextDeadline() -> Timeout {
        guard let earliest = running.values.compactMap(\.deadline).min() else { return .infinity }
        return Timeout(max(.zero, earliest - ContinuousClock.now))
    }

    /// Removes and returns the tasks whose deadline has passed.
    mutating func overdue() -> [(Int, ProcessTask<Result>)] {
        let now = ContinuousClock.now
        let late = running.filter { $0.value.deadline.map { $0 <= now } ?? false }.keys.sorted()
        return late.map { ($0, finished($0)) }
    }

    /// Removes and returns every task still running.
    mutating func runningTasks() -> [(Int, ProcessTask<Result>)] {
        running.keys.sorted().map { ($0, finished($0)) }
    }

    func results() -> [TaskOutcome<Result>] {
        ordered ? byIndex.keys.sorted().compactMap { byIndex[$0] } : inCompletionOrder
    }
}
