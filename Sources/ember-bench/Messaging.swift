import Ember

/// 1M round trips between two processes, as the BEAM side runs them: a
/// warm-up, a timed run for the mean round trip, then a run with every round
/// trip timed for the latency percentiles (the timestamps would inflate the mean).
@Sendable func pingpong(_ options: Options, _ report: Report) async throws {
    let rounds = options.int("rounds", default: 1_000_000)
    let leaks = try await LeakBaseline.take()
    try await withProcess {
        let ponger = spawnPonger()
        try await pingRounds(ponger, min(rounds, 10_000))
        let start = now()
        try await pingRounds(ponger, rounds)
        let elapsed = now() - start
        let latencies = try await sampledRoundTrips(ponger, rounds)
        ponger.exit(.kill)
        report.metric("round_trip", Double(elapsed) / Double(rounds), "ns")
        report.metric("p50", percentile(latencies, 0.50), "ns")
        report.metric("p99", percentile(latencies, 0.99), "ns")
        report.metric("max", Double(latencies.last ?? 0), "ns")
    }
    await reportLeaks(since: leaks, report)
}

/// The skynet benchmark: 1M processes in a tree of 10, leaves send their
/// number, parents sum.
@Sendable func skynet(_ options: Options, _ report: Report) async throws {
    let size = options.int("size", default: 1_000_000)
    // The tree splits each node's range in ten: any other size reaches a node
    // of size 0, which would spawn without end.
    guard size > 0, String(size).dropFirst().allSatisfy({ $0 == "0" }), String(size).first == "1" else {
        throw BenchError.wrongResult("skynet --size must be a power of 10, not \(size)")
    }
    let leaks = try await LeakBaseline.take()
    let start = now()
    let sum = try await withProcess { () -> Int in
        let me = try Pid.current
        spawn { try await skynetNode(parent: me, number: 0, size: size) }
        return try await receive(Int.self)
    }
    let elapsed = now() - start
    let expected = size * (size - 1) / 2
    guard sum == expected else { throw BenchError.wrongResult("skynet sum \(sum), expected \(expected)") }
    report.metric("total", Double(elapsed) / 1e6, "ms")
    report.metric("per_process", Double(elapsed) / Double(size * 10 / 9), "ns")
    await reportLeaks(since: leaks, report)
}

private func skynetNode(parent: Pid, number: Int, size: Int) async throws {
    if size == 1 {
        send(parent, number)
        return
    }
    let me = try Pid.current
    let step = size / 10
    for index in 0..<10 {
        let childNumber = number + index * step
        spawn { try await skynetNode(parent: me, number: childNumber, size: step) }
    }
    var sum = 0
    for _ in 0..<10 { sum += try await receive(Int.self) }
    send(parent, sum)
}

enum BenchError: Error { case wrongResult(String) }

/// The same ping-pong with plain Swift concurrency on the default executor: two
/// tasks, each with an `AsyncStream` as its mailbox.
@Sendable func actors(_ options: Options, _ report: Report) async throws {
    let rounds = options.int("rounds", default: 100_000)
    let (pings, pingInput) = AsyncStream<Int>.makeStream()
    let (pongs, pongInput) = AsyncStream<Int>.makeStream()
    let ponger = Task {
        for await n in pings { pongInput.yield(n) }
        pongInput.finish()
    }
    let start = now()
    var iterator = pongs.makeAsyncIterator()
    for n in 0..<rounds {
        pingInput.yield(n)
        guard await iterator.next() == n else { throw BenchError.wrongResult("pong out of order") }
    }
    let elapsed = now() - start
    pingInput.finish()
    await ponger.value
    report.metric("round_trip", Double(elapsed) / Double(rounds), "ns")
}
