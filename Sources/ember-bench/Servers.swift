import Ember

/// A counter server for the call benchmark.
struct CallCounter: GenServer {
    typealias Request = Int
    typealias Reply = Int
    var count = 0

    static func initialize(_ argument: Void) async throws -> InitResult<CallCounter> { .ok(CallCounter()) }

    mutating func handleCall(_ n: Int, from: From) async throws -> CallResult<CallCounter> {
        count += n
        return .reply(count)
    }
}

/// 1M synchronous calls to one server.
@Sendable func genserverCall(_ options: Options, _ report: Report) async throws {
    let calls = options.int("calls", default: 1_000_000)
    let elapsed = try await withProcess { () -> UInt64 in
        let server = try await CallCounter.startLink(())
        let start = now()
        for _ in 0..<calls { _ = try await CallCounter.call(server, 1) }
        let elapsed = now() - start
        guard try await CallCounter.call(server, 0) == calls else { throw BenchError.wrongResult("lost calls") }
        return elapsed
    }
    report.metric("per_call", Double(elapsed) / Double(calls), "ns")
}

/// 1M idle agents: ns per start, bytes per agent (RSS delta / count), and the
/// time to kill them all. Like the BEAM side, the agents are not linked and
/// their pids are not kept; teardown finds them through `processes()`.
@Sendable func idleAgents(_ options: Options, _ report: Report) async throws {
    let count = options.int("count", default: 1_000_000)
    try await measureIdleProcesses(count: count, bytesMetric: "bytes_per_agent", report) {
        for _ in 0..<count { _ = try await Agent.start { 0 } }
    }
}
