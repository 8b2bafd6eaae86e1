import Ember

/// Send to self and receive it back: the mailbox cost without scheduling.
@Sendable func selfSend(_ options: Options, _ report: Report) async throws {
    let rounds = options.int("rounds", default: 1_000_000)
    let elapsed = try await withProcess { () -> UInt64 in
        let me = try Pid.current
        let start = now()
        for _ in 0..<rounds {
            send(me, Pong())
            _ = try await receive(Pong.self)
        }
        return now() - start
    }
    report.metric("send_receive", Double(elapsed) / Double(rounds), "ns")
}

/// Two tasks on Ember's scheduler handing a continuation back and forth: the floor for a round trip.
@Sendable func yieldLoop(_ options: Options, _ report: Report) async throws {
    let rounds = options.int("rounds", default: 1_000_000)
    let elapsed = try await withProcess { () -> UInt64 in
        let start = now()
        for _ in 0..<rounds { await yieldNow() }
        return now() - start
    }
    report.metric("yield", Double(elapsed) / Double(rounds), "ns")
}
