import Ember
import Synchronization

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

/// Two tasks on Ember's scheduler resuming each other's continuation through a
/// lock: the floor under any mailbox design built on Swift tasks.
@Sendable func continuationFloor(_ options: Options, _ report: Report) async throws {
    let rounds = options.int("rounds", default: 1_000_000)
    final class Slot: @unchecked Sendable {
        // Guarded by `lock`.
        let lock = Mutex<UnsafeContinuation<Void, Never>?>(nil)
        let pending = Mutex<Int>(0)
        func wait() async {
            await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                let ready = pending.withLock { p -> Bool in
                    if p > 0 { p -= 1; return true }
                    return false
                }
                if ready { c.resume(); return }
                let again = lock.withLock { slot -> Bool in
                    if pending.withLock({ $0 }) > 0 { return true }
                    slot = c
                    return false
                }
                if again { pending.withLock { $0 -= 1 }; c.resume() }
            }
        }
        func signal() {
            let c = lock.withLock { slot -> UnsafeContinuation<Void, Never>? in
                defer { slot = nil }
                if slot == nil { pending.withLock { $0 += 1 } }
                return slot
            }
            c?.resume()
        }
    }
    let a = Slot(), b = Slot()
    let start = now()
    let ponger = spawn { for _ in 0..<rounds { await a.wait(); b.signal() } }
    _ = try await withProcess {
        for _ in 0..<rounds { a.signal(); await b.wait() }
    }
    _ = ponger
    report.metric("round_trip", Double(now() - start) / Double(rounds), "ns")
}
