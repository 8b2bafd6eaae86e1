import Ember
import Synchronization

/// Idle processes whose body has started and not yet unwound. A global, so
/// that the process body captures nothing: a capture would be allocated per
/// process and counted in `bytes_per_process`.
private let idleBodies = Atomic<Int>(0)

/// A process with nothing to do: it waits for `stop` (Erlang's `idle/0`).
@Sendable private func idle() async throws {
    idleBodies.add(1, ordering: .relaxed)
    defer { idleBodies.subtract(1, ordering: .relaxed) }
    _ = try await receive { (message: Atom) in message == "stop" ? message : nil }
}

/// 1M processes blocked in `receive`: ns per spawn, bytes per process, and the
/// time to kill them all. The work of the BEAM side's `spawn_idle/1`:
///
/// - `per_spawn` runs until every new process has run into its `receive`.
///   The BEAM side waits for its run queues to empty; Ember has no such
///   counter, so each process counts itself in on its way (one relaxed
///   atomic add) and the spawner polls the count every millisecond, as the
///   BEAM side polls its run queues.
/// - `bytes_per_process` is the growth of RSS over that, divided by the count.
///   The pids are not kept (they would count); teardown finds them through
///   `processes()`.
/// - `teardown` kills each and waits until the process count is back. Ember
///   takes a killed process off the count at once and its task unwinds after,
///   so the wait also covers every body having unwound: the BEAM's count drops
///   only when a process is gone.
@Sendable func spawnIdle(_ options: Options, _ report: Report) async throws {
    let count = options.int("count", default: 1_000_000)
    try await measureIdleProcesses(count: count, bytesMetric: "bytes_per_process", report) {
        for _ in 0..<count { spawn(idle) }
        guard await poll(seconds: 600, until: { idleBodies.load(ordering: .relaxed) == count }) else {
            throw BenchError.wrongResult("only \(idleBodies.load(ordering: .relaxed)) of \(count) processes started")
        }
    } unwound: {
        idleBodies.load(ordering: .relaxed) == 0
    }
}

/// The frame of spawn-idle and idle-agents: times `start` (which leaves
/// `count` new processes idle) for `per_spawn`, reports the RSS it added per
/// process as `bytesMetric`, kills the new processes for `teardown` (waiting
/// until `unwound()` too), and reports what is left.
func measureIdleProcesses(
    count: Int, bytesMetric: String, _ report: Report,
    start: @escaping @Sendable () async throws -> Void,
    unwound: @escaping @Sendable () -> Bool = { true }
) async throws {
    let leaks = try await LeakBaseline.take()
    try await withProcess {
        let before = Set(processes())
        let resident = trimmedResidentBytes()
        let startTime = now()
        try await start()
        let elapsed = now() - startTime
        let grown = trimmedResidentBytes() - resident
        report.metric("per_spawn", Double(elapsed) / Double(count), "ns")
        report.metric(bytesMetric, Double(grown) / Double(count), "bytes")
        let teardown = try await killNewProcesses(since: before, expected: count, until: unwound)
        report.metric("teardown", Double(teardown) / 1e6, "ms")
    }
    await reportLeaks(since: leaks, report)
}
