import Synchronization
import Testing

@testable import Ember

@Suite("Timer queue")
struct TimerQueueTests {
    /// Counts the timers that fire at it.
    final class Counter: TimerTarget {
        let fired = Atomic<Int>(0)
        func timerFired(token: UInt64) { fired.add(1, ordering: .relaxed) }
    }

    let timers = Runtime.shared.scheduler.timers

    @Test("a timer due before the one the timer thread sleeps toward still fires on time")
    func earlierTimerWakes() async {
        let late = Counter(), early = Counter()
        let far = timers.schedule(after: 3_600_000_000_000, target: late, token: 1)
        defer { far.cancel() }
        // Let the thread sort the far timer in and sleep toward it (or something earlier).
        #expect(await eventually { timers.sleepDeadline <= far.deadline })
        _ = timers.schedule(after: 1_000_000, target: early, token: 2)
        #expect(await eventually(within: 5) { early.fired.load(ordering: .relaxed) == 1 })
        #expect(late.fired.load(ordering: .relaxed) == 0)
    }

    @Test("cancelled timers do not fire, however many pass through the inbox; live ones among them do")
    func cancelledTimersDropped() async {
        let cancelled = Counter(), live = Counter()
        for round in 0..<(TimerQueue.inboxLimit * 3) {
            // Due in a minute: cancelled long before, however slowly this runs.
            let timer = timers.schedule(after: 60_000_000_000, target: cancelled, token: UInt64(round))
            timer.cancel()
            if round % 1000 == 0 { _ = timers.schedule(after: 1_000_000, target: live, token: UInt64(round)) }
        }
        #expect(await eventually { live.fired.load(ordering: .relaxed) == 4 })
        #expect(cancelled.fired.load(ordering: .relaxed) == 0)
    }
}
