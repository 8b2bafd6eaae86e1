import Ember

/// A token passed around a ring of processes.
struct Token: Sendable { let hopsLeft: Int }

/// 10k processes in a ring, the token passed 100 laps: ns per hop.
@Sendable func ring(_ options: Options, _ report: Report) async throws {
    let count = options.int("processes", default: 10_000)
    let laps = options.int("laps", default: 100)
    let hops = count * laps
    let leaks = try await LeakBaseline.take()
    let elapsed = try await withProcess { () -> UInt64 in
        let me = try Pid.current
        // Each process forwards to the next; the last one forwards to us.
        var next = me
        var members: [Pid] = []
        for _ in 0..<(count - 1) {
            let target = next
            next = spawn {
                while true {
                    let token = try await receive(Token.self)
                    send(target, token)
                }
            }
            members.append(next)
        }
        let start = now()
        send(next, Token(hopsLeft: hops))
        var remaining = hops
        while remaining > count {
            let token = try await receive(Token.self)
            remaining = token.hopsLeft - count
            send(next, Token(hopsLeft: remaining))
        }
        _ = try await receive(Token.self)
        let elapsed = now() - start
        for member in members { member.exit(.kill) }
        return elapsed
    }
    report.metric("per_hop", Double(elapsed) / Double(hops), "ns")
    await reportLeaks(since: leaks, report)
}

/// 100 senders x 10k messages to one receiver.
@Sendable func fanIn(_ options: Options, _ report: Report) async throws {
    let senders = options.int("senders", default: 100)
    let messages = options.int("messages", default: 10_000)
    let total = senders * messages
    let elapsed = try await withProcess { () -> UInt64 in
        let me = try Pid.current
        var pids: [Pid] = []
        for _ in 0..<senders {
            pids.append(spawn {
                _ = try await receive { (m: Atom) in m == "go" ? m : nil }
                for i in 0..<messages { send(me, i) }
            })
        }
        let start = now()
        for pid in pids { send(pid, Atom("go")) }
        for _ in 0..<total { _ = try await receive(Int.self) }
        return now() - start
    }
    report.metric("per_message", Double(elapsed) / Double(total), "ns")
    report.metric("throughput", Double(total) / (Double(elapsed) / 1e9), "msg/s")
}

/// One match received behind 1,000 queued non-matching messages.
@Sendable func selective(_ options: Options, _ report: Report) async throws {
    let queued = options.int("queued", default: 1_000)
    let iterations = options.int("iterations", default: 100_000)
    let elapsed = try await withProcess { () -> UInt64 in
        let me = try Pid.current
        for i in 0..<queued { send(me, (Atom("junk"), i)) }
        let start = now()
        for _ in 0..<iterations {
            send(me, Atom("match"))
            _ = try await receive { (m: Atom) in m == "match" ? m : nil }
        }
        let elapsed = now() - start
        guard try flush().count == queued else { throw BenchError.wrongResult("the queued messages were disturbed") }
        return elapsed
    }
    report.metric("per_receive", Double(elapsed) / Double(iterations), "ns")
}

/// 2 x schedulers independent ping-pong pairs: aggregate messages per second.
@Sendable func pairs(_ options: Options, _ report: Report) async throws {
    let pairCount = options.int("pairs", default: 2 * EmberRuntime.schedulerCount)
    let rounds = options.int("rounds", default: 200_000)
    let elapsed = try await withProcess { () -> UInt64 in
        let me = try Pid.current
        var pingers: [Pid] = []
        for _ in 0..<pairCount {
            let ponger = spawnPonger()
            pingers.append(spawn {
                _ = try await receive { (m: Atom) in m == "go" ? m : nil }
                try await pingRounds(ponger, rounds)
                ponger.exit(.kill)
                send(me, Atom("pair_done"))
            })
        }
        let start = now()
        for pinger in pingers { send(pinger, Atom("go")) }
        for _ in 0..<pairCount { _ = try await receive { (m: Atom) in m == "pair_done" ? m : nil } }
        return now() - start
    }
    report.metric("throughput", Double(pairCount * rounds * 2) / (Double(elapsed) / 1e9), "msg/s")
}
