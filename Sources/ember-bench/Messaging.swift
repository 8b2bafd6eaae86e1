import Ember

/// A ping carrying who to answer.
struct Ping: Sendable { let from: Pid }
struct Pong: Sendable {}

/// 1M round trips between two processes; per round trip latency percentiles.
@Sendable func pingpong(_ options: Options, _ report: Report) async throws {
    let rounds = options.int("rounds", default: 1_000_000)
    let samples = try await withProcess { () -> [UInt64] in
        let me = try Pid.current
        let ponger = spawn {
            while true {
                let ping = try await receive(Ping.self)
                send(ping.from, Pong())
            }
        }
        var samples = [UInt64](repeating: 0, count: rounds)
        for index in 0..<rounds {
            let start = now()
            send(ponger, Ping(from: me))
            _ = try await receive(Pong.self)
            samples[index] = now() - start
        }
        ponger.exit(.kill)
        return samples
    }
    let total = samples.reduce(0, +)
    let sorted = samples.sorted()
    report.metric("round_trip", Double(total) / Double(rounds), "ns")
    report.metric("p50", percentile(sorted, 0.50), "ns")
    report.metric("p99", percentile(sorted, 0.99), "ns")
    report.metric("max", Double(sorted.last ?? 0), "ns")
}

/// The skynet benchmark: 1M processes in a tree of 10, leaves send their
/// number, parents sum.
@Sendable func skynet(_ options: Options, _ report: Report) async throws {
    let size = options.int("size", default: 1_000_000)
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
