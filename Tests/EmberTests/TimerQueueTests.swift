import Synchronization
import Testing

@testable import Ember

@Suite("Timer queue")
struct TimerQueueTests {
    /// Counts the timers that fire at it, until it stops caring.
    final class Counter: TimerTarget {
        let fired = Atomic<Int>(0)
        let pending = Atomic<Bool>(true)
        func timerFired(token: UInt64) { fired.add(1, ordering: .relaxed) }
        func isTimerPending(token: UInt64) -> Bool { pending.load(ordering: .relaxed) }
        func stopCaring() { pending.store(false, ordering: .relaxed) }
    }

    let timers = Runtime.shared.scheduler.timers

    @Test("a timer due before the one the timer thread sleeps toward still fires on time")
    func earlierTimerWakes() async {
        let late = Counter(), early = Counter()
        let far = timers.schedule(after: 3_600_000_000_000, target: late, token: 1)
        defer { late.stopCaring() }
        // Let the thread sort the far timer in and sleep toward it (or something earlier).
        #expect(await eventually { timers.sleepDeadline <= far })
        timers.schedule(after: 1_000_000, target: early, token: 2)
        #expect(await eventually(within: 5) { early.fired.load(ordering: .relaxed) == 1 })
        #expect(late.fired.load(ordering: .relaxed) == 0)
    }

    @Test("timers no longer pending do not fire, however many pass through the inbox; pending ones among them do")
    func movedOnTimersDropped() async {
        let moot = Counter(), live = Counter()
        moot.stopCaring()
        for round in 0..<(TimerQueue.inboxLimit * 3) {
            // Due in a minute: dropped long before, however slowly this runs.
            timers.schedule(after: 60_000_000_000, target: moot, token: UInt64(round))
            if round % 1000 == 0 { timers.schedule(after: 1_000_000, target: live, token: UInt64(round)) }
        }
        #expect(await eventually { live.fired.load(ordering: .relaxed) == 4 })
        #expect(moot.fired.load(ordering: .relaxed) == 0)
    }

    @Test("a receive's timeout that fires after the receive ended does not wake the process's next receive")
    func lateTimeoutIgnored() async throws {
        let forwarded = try await withProcess { () -> Int in
            let me = try Pid.current
            let worker = spawn {
                // The first timed receive of the process: its timeout's token is 1.
                let first = try await receive(after: .milliseconds(60_000)) { (n: Int) in n }
                send(me, first ?? -1)
                send(me, try await receive(Int.self))
            }
            send(worker, 1)
            #expect(try await receive(Int.self) == 1)
            #expect(await eventually { worker.info()?.status == .waiting })
            // As if the first receive's timer had fired just as its message came.
            try #require(worker.cell).timerFired(token: 1)
            send(worker, 2)
            return try await receive(Int.self)
        }
        #expect(forwarded == 2)
    }
}
