import Synchronization
import Testing

@testable import Ember

@Suite("Scheduler")
struct SchedulerTests {
    /// A one-shot signal between two tasks, whichever of wait and signal comes first.
    final class Signal: Sendable {
        private let state = Mutex<(waiter: UnsafeContinuation<Void, Never>?, signalled: Bool)>((nil, false))

        func wait() async {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.signalled { state.signalled = false; return true }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }

        func signal() {
            let waiter = state.withLock { state -> UnsafeContinuation<Void, Never>? in
                guard let waiter = state.waiter else { state.signalled = true; return nil }
                state.waiter = nil
                return waiter
            }
            waiter?.resume()
        }
    }

    @Test("a task lingering in the later slot gets its turn while two others pass the next slot back and forth")
    func lingererNotStarved() async {
        // A scheduler of its own, with one worker, so that everything below
        // shares one thread's slots. (Its parked thread outlives the test.)
        let scheduler = Scheduler(workerCount: 1)
        final class Record: Sendable {
            /// Round trips the pair has made.
            let rounds = Atomic<Int>(0)
            /// Set by the third task: the pair is to stop.
            let stop = Atomic<Bool>(false)
            /// Set by the pair's second task, for its first: it has stopped.
            let finished = Atomic<Bool>(false)
            /// Round trips the pair made while the third task lingered.
            let waited = Atomic<Int>(-1)
        }
        let record = Record()
        let limit = 1_000_000
        let (a, b) = (Signal(), Signal())
        let pairStarted = Signal(), done = Signal()
        Task(executorPreference: scheduler) {
            while true {
                await a.wait()
                if record.finished.load(ordering: .relaxed) { break }
                b.signal()
            }
        }
        Task(executorPreference: scheduler) {
            pairStarted.signal()
            while !record.stop.load(ordering: .relaxed) && record.rounds.load(ordering: .relaxed) < limit {
                a.signal()
                await b.wait()
                record.rounds.add(1, ordering: .relaxed)
            }
            record.finished.store(true, ordering: .relaxed)
            a.signal()  // the last one: it ends the other task
            done.signal()
        }
        // Once the pair passes the next slot back and forth, a third task
        // comes in (through the global queue) and lingers.
        await pairStarted.wait()
        Task(executorPreference: scheduler) {
            let parkedAt = record.rounds.load(ordering: .relaxed)
            await Scheduler.linger()
            record.waited.store(record.rounds.load(ordering: .relaxed) - parkedAt, ordering: .relaxed)
            record.stop.store(true, ordering: .relaxed)
        }
        await done.wait()
        let waited = record.waited.load(ordering: .relaxed)
        // Two jobs a round trip: the lingering task joins the queue after
        // `laterPatience` of them, and gets its turn within the streak limit.
        #expect(waited >= 0 && waited <= Worker.laterPatience, "the lingering task waited \(waited) round trips of the pair")
    }

    @Test("each worker spreads its spawns over shards of its own", arguments: [1, 2, 3, 7, 64, 100])
    func sharesApart(workers: Int) {
        let count = 64
        let shares = (0..<workers).map { Worker.share(of: $0, among: workers, over: count) }
        for share in shares {
            #expect(!share.isEmpty && share.lowerBound >= 0 && share.upperBound <= count)
        }
        if workers <= count {
            // Together they cover the range, each apart from the others.
            #expect(shares.first?.lowerBound == 0 && shares.last?.upperBound == count)
            for (a, b) in zip(shares, shares.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
        }
    }
}
