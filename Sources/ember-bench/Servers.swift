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

/// 1M idle agents: bytes per agent (RSS delta / count) and spawn time.
@Sendable func idleAgents(_ options: Options, _ report: Report) async throws {
    let count = options.int("count", default: 1_000_000)
    let baseline = residentBytes()
    let (elapsed, grown, agents) = try await withProcess { () -> (UInt64, Int, [Agent<Int>]) in
        var agents: [Agent<Int>] = []
        agents.reserveCapacity(count)
        let start = now()
        for i in 0..<count { agents.append(try await Agent.start { i }) }
        let elapsed = now() - start
        return (elapsed, residentBytes() - baseline, agents)
    }
    // Every agent still answers.
    guard try await agents[count / 2].get({ $0 }) == count / 2 else { throw BenchError.wrongResult("agent lost its state") }
    report.metric("bytes_per_agent", Double(grown) / Double(count), "bytes")
    report.metric("per_spawn", Double(elapsed) / Double(count), "ns")
    let teardown = now()
    for agent in agents { agent.pid.exit(.kill) }
    report.metric("teardown", Double(now() - teardown) / 1e6, "ms")
    report.metric("processes_after", Double(processCount), "processes")
}
