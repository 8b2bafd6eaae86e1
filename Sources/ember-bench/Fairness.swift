import Ember

/// Ping-pong p99 latency with and without CPU-bound processes running beside
/// it: does a process that never waits starve the others? One spinner by
/// default (issue 4); `--spinners` adds more, so that on a machine with few
/// cores every scheduler has one. The work of the BEAM side's `fairness/1`,
/// step for step.
@Sendable func fairness(_ options: Options, _ report: Report) async throws {
    let rounds = options.int("rounds", default: 100_000)
    let spinnerCount = options.int("spinners", default: 1)
    try await withProcess {
        let me = try Pid.current
        let ponger = spawnPonger()
        try await pingRounds(ponger, min(rounds, 10_000))
        let unloaded = percentile(try await sampledRoundTrips(ponger, rounds), 0.99)
        var spinners: [Pid] = []
        var sinks: [Pid] = []
        for _ in 0..<spinnerCount {
            let sink = spawn { while true { _ = try await receive(Int.self) } }
            spinners.append(spawn { try await spin(sink: sink, started: me) })
            sinks.append(sink)
        }
        for _ in 0..<spinnerCount { _ = try await receive { (m: Atom) in m == "spinning" ? m : nil } }
        let loaded = percentile(try await sampledRoundTrips(ponger, rounds), 0.99)
        for spinner in spinners { send(spinner, Atom("stop")) }
        for sink in sinks { sink.exit(.kill) }
        ponger.exit(.kill)
        report.metric("p99_unloaded", unloaded, "ns")
        report.metric("p99_loaded", loaded, "ns")
    }
}

/// Never waits: a few steps of arithmetic, a send to the sink, a look into its
/// own mailbox for `stop`, again. The arithmetic keeps the send rate below
/// what the sink drains, so the sink's mailbox does not grow without bound.
///
/// The look (a `receive` with `after: 0`, which returns at once) is where an
/// Ember process yields once its budget is spent: a send cannot suspend, so a
/// loop of sends alone would keep its scheduler thread for ever (and could not
/// even be killed). The BEAM preempts without it; its spinner takes the same
/// look so that both do the same work.
private func spin(sink: Pid, started: Pid) async throws {
    send(started, Atom("spinning"))
    var x = 1
    while true {
        x = lcg(16, x)
        send(sink, x)
        if try await receive(after: 0, { (m: Atom) in m == "stop" ? m : nil }) != nil { return }
    }
}

/// `steps` steps of a linear congruential generator (Marsaglia's 69069 mod
/// 2^32). Its values stay below 2^49, a small integer on the BEAM too, so
/// neither side allocates.
private func lcg(_ steps: Int, _ seed: Int) -> Int {
    var x = seed
    for _ in 0..<steps { x = (x &* 69069 &+ 1) & 0xFFFF_FFFF }
    return x
}
