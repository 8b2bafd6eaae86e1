import Ember

// The ping-pong building blocks shared by pingpong, pairs and fairness, each
// the counterpart of the function of the same role in bench/beam/ember_bench.erl.

/// A ping carrying who to answer.
struct Ping: Sendable { let from: Pid }
struct Pong: Sendable {}

/// Starts a process that answers every ``Ping`` with a ``Pong`` until it is
/// killed (Erlang's `pong/0`).
func spawnPonger() -> Pid {
    spawn {
        while true {
            let ping = try await receive(Ping.self)
            send(ping.from, Pong())
        }
    }
}

/// `rounds` round trips from the calling process to `ponger` (Erlang's `ping_n/2`).
func pingRounds(_ ponger: Pid, _ rounds: Int) async throws {
    let me = try Pid.current
    for _ in 0..<rounds {
        send(ponger, Ping(from: me))
        _ = try await receive(Pong.self)
    }
}

/// `rounds` round trips, each one timed; returns the latencies in ns, sorted
/// (Erlang's `ping_sampled/2`). One clock read per round trip: the end of one
/// is the start of the next.
func sampledRoundTrips(_ ponger: Pid, _ rounds: Int) async throws -> [UInt64] {
    let me = try Pid.current
    var samples = [UInt64](repeating: 0, count: rounds)
    var start = now()
    for index in 0..<rounds {
        send(ponger, Ping(from: me))
        _ = try await receive(Pong.self)
        let end = now()
        samples[index] = end - start
        start = end
    }
    samples.sort()
    return samples
}
