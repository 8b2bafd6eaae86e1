import HeapModule
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Something a timer can fire at. The token tells the target which of its
/// waits the timer belonged to. There is no timer object to cancel: a target
/// stops caring about a token (a receive that got its message, a cancelled
/// `sendAfter`), says so in ``isTimerPending(token:)``, and the queue drops
/// the timer when it next looks at it, unfired.
protocol TimerTarget: AnyObject, Sendable {
    func timerFired(token: UInt64)
    /// False once the timer with `token` has nothing left to do. Called by
    /// the timer thread, at any time: keep it a load.
    func isTimerPending(token: UInt64) -> Bool
}

/// The scheduler's clock: timeouts of `receive ... after` are kept by one
/// thread, rather than a sleeping task per receive.
///
/// Most timers are moot long before they are due (a call's 5-second
/// timeout, made moot by the reply microseconds later), so scheduling one
/// costs only an append to an inbox, with no allocation, and the thread is
/// woken only if the new timer is due before the one it sleeps toward. The
/// thread sorts the inbox into its heap when it wakes, dropping the timers
/// no longer pending; it is woken to do so once the inbox holds
/// ``inboxLimit`` timers, so that a steady stream of moot timers does not
/// pile up.
final class TimerQueue: @unchecked Sendable {
    // @unchecked Sendable: `heap`, `sequence` and `liveAtLastPurge` belong to
    // the timer thread, which alone touches them (`schedule` only appends to
    // `inboxTimers`, which is touched only under `inboxLock`, through
    // `withInbox`); the pthread objects are allocated once and live as long
    // as the OS process.

    /// A timer: `target` is told at `deadline`, with `token`.
    private struct Timer {
        let deadline: UInt64
        let target: any TimerTarget
        let token: UInt64
        var isPending: Bool { target.isTimerPending(token: token) }
    }

    private struct Entry: Comparable {
        let timer: Timer
        let sequence: UInt64
        static func < (a: Entry, b: Entry) -> Bool {
            (a.timer.deadline, a.sequence) < (b.timer.deadline, b.sequence)
        }
        static func == (a: Entry, b: Entry) -> Bool { a.sequence == b.sequence }
    }

    /// Timers in the inbox that wake the thread to sort them in.
    static let inboxLimit = 1024

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    /// Guards `inboxTimers`.
    private let inboxLock = FutexLock()
    /// Timers scheduled since the thread last looked, in the order
    /// scheduled. Guarded by `inboxLock` (a `FutexLock`, not a `Mutex`: see
    /// CONTRIBUTING), so exclusivity is not checked dynamically.
    @exclusivity(unchecked) private var inboxTimers = ContiguousArray<Timer>()

    @inline(__always)
    private func withInbox<Result>(_ body: (inout ContiguousArray<Timer>) -> Result) -> Result {
        inboxLock.withLock { body(&inboxTimers) }
    }

    /// The deadline the thread last went to sleep toward (`UInt64.max`: none):
    /// a new timer due earlier wakes it.
    private let sleepingUntil = Atomic<UInt64>(UInt64.max)
    /// The deadline the thread last went to sleep toward, for tests.
    var sleepDeadline: UInt64 { sleepingUntil.load(ordering: .relaxed) }
    private var heap = Heap<Entry>()
    private var sequence: UInt64 = 0
    /// The heap's smallest size since it was last rid of timers no longer pending.
    private var liveAtLastPurge = 0

    init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if !canImport(Darwin)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)

        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            Unmanaged<TimerQueue>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, context)
        precondition(result == 0, "Ember could not start its timer thread (errno \(result))")
        pthread_detach(thread)
    }

    /// Monotonic time in nanoseconds.
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Tells `target` at `nanoseconds` from now, with `token`, unless it has
    /// stopped caring by then (see ``TimerTarget``). Returns the deadline.
    @discardableResult
    func schedule(after nanoseconds: UInt64, target: any TimerTarget, token: UInt64) -> UInt64 {
        let now = Self.now()
        let deadline = nanoseconds > UInt64.max - now ? UInt64.max : now + nanoseconds
        let timer = Timer(deadline: deadline, target: target, token: token)
        let waiting = withInbox { inbox in
            inbox.append(timer)
            return inbox.count
        }
        // Either the thread sees this timer before it sleeps, or it looked at the
        // inbox before this append and, the inbox lock ordering the two, this
        // sees the deadline it sleeps toward (see `sleep(until:)`).
        if deadline < sleepingUntil.load(ordering: .relaxed) || waiting == Self.inboxLimit {
            pthread_mutex_lock(mutex)
            pthread_cond_signal(condition)
            pthread_mutex_unlock(mutex)
        }
        return deadline
    }

    private func run() {
        var arrived = ContiguousArray<Timer>()
        var due: [Timer] = []
        while true {
            sortInbox(using: &arrived)
            let now = Self.now()
            while let first = heap.min, first.timer.deadline <= now {
                let timer = heap.removeMin().timer
                if timer.isPending { due.append(timer) }
            }
            // The heap shrank: the next purge is due when it doubles from here.
            liveAtLastPurge = min(liveAtLastPurge, heap.count)
            for timer in due { timer.target.timerFired(token: timer.token) }
            due.removeAll(keepingCapacity: true)
            purgeIfGrown()
            sleep(until: heap.min?.timer.deadline)
        }
    }

    /// Sleeps until `deadline` (for ever if nil), a timer due earlier is
    /// scheduled, or the inbox fills up; returns at once if a timer arrived
    /// since the inbox was last emptied.
    private func sleep(until deadline: UInt64?) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        sleepingUntil.store(deadline ?? UInt64.max, ordering: .relaxed)
        // A timer this check misses was appended after it, so its `schedule`
        // sees the deadline stored above and, if it is due earlier, signals,
        // under the mutex: not before this thread waits.
        guard withInbox({ $0.isEmpty }) else { return }
        guard let deadline else {
            pthread_cond_wait(condition, mutex)
            return
        }
        var until = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        pthread_cond_timedwait(condition, mutex, &until)
    }

    /// Moves the inbox into the heap, dropping the timers no longer pending.
    /// `spare` is an empty buffer to leave in the inbox; it comes back empty.
    private func sortInbox(using spare: inout ContiguousArray<Timer>) {
        withInbox { swap(&$0, &spare) }
        for timer in spare where timer.isPending {
            sequence &+= 1
            heap.insert(Entry(timer: timer, sequence: sequence))
        }
        spare.removeAll(keepingCapacity: true)
    }

    /// Rebuilds the heap without the timers no longer pending once it has
    /// doubled from its smallest size since that was last done, so that
    /// receives which keep finishing before their timeout do not grow it:
    /// each timer is looked at a bounded number of times on average, and
    /// moot timers (which keep their targets alive) never outnumber twice
    /// the pending ones by much.
    private func purgeIfGrown() {
        guard heap.count > Self.inboxLimit, heap.count >= 2 * liveAtLastPurge else { return }
        heap = Heap(heap.unordered.filter { $0.timer.isPending })
        liveAtLastPurge = heap.count
    }
}
