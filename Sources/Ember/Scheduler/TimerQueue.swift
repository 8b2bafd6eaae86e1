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
/// waits the timer belonged to, so a late timer for a finished wait is ignored.
protocol TimerTarget: AnyObject, Sendable {
    func timerFired(token: UInt64)
}

/// A scheduled timeout. Cancelling is O(1); the entry is dropped from the heap
/// when it comes due, or earlier by a purge once cancelled entries dominate.
final class Timer: Sendable {
    let deadline: UInt64
    let target: any TimerTarget
    let token: UInt64
    fileprivate let cancelled = Atomic<Bool>(false)
    fileprivate unowned let queue: TimerQueue

    fileprivate init(deadline: UInt64, target: any TimerTarget, token: UInt64, queue: TimerQueue) {
        self.deadline = deadline
        self.target = target
        self.token = token
        self.queue = queue
    }

    func cancel() {
        if !cancelled.exchange(true, ordering: .relaxed) {
            queue.cancelledCount.add(1, ordering: .relaxed)
        }
    }
}

/// The scheduler's clock: timeouts of `receive ... after` are kept in one heap
/// served by one thread, rather than a sleeping task per receive.
final class TimerQueue: @unchecked Sendable {
    // @unchecked Sendable: `heap`, `sequence` and `nextWake` are accessed only
    // with `mutex` held; the pthread objects are allocated once and live as long
    // as the OS process.
    private struct Entry: Comparable {
        let deadline: UInt64
        let sequence: UInt64
        let timer: Timer
        static func < (a: Entry, b: Entry) -> Bool { (a.deadline, a.sequence) < (b.deadline, b.sequence) }
        static func == (a: Entry, b: Entry) -> Bool { a.sequence == b.sequence }
    }

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var heap = Heap<Entry>()
    private var sequence: UInt64 = 0
    fileprivate let cancelledCount = Atomic<Int>(0)

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

    func schedule(after nanoseconds: UInt64, target: any TimerTarget, token: UInt64) -> Timer {
        let now = Self.now()
        let deadline = nanoseconds > UInt64.max - now ? UInt64.max : now + nanoseconds
        let timer = Timer(deadline: deadline, target: target, token: token, queue: self)
        pthread_mutex_lock(mutex)
        purgeIfMostlyCancelled()
        sequence &+= 1
        let becomesFirst = heap.min.map { deadline < $0.deadline } ?? true
        heap.insert(Entry(deadline: deadline, sequence: sequence, timer: timer))
        if becomesFirst { pthread_cond_signal(condition) }
        pthread_mutex_unlock(mutex)
        return timer
    }

    private func run() {
        var due: [Timer] = []
        while true {
            pthread_mutex_lock(mutex)
            while true {
                purgeIfMostlyCancelled()
                guard let first = heap.min else {
                    pthread_cond_wait(condition, mutex)
                    continue
                }
                let now = Self.now()
                if first.deadline <= now { break }
                var until = timespec(
                    tv_sec: Int(first.deadline / 1_000_000_000),
                    tv_nsec: Int(first.deadline % 1_000_000_000))
                pthread_cond_timedwait(condition, mutex, &until)
            }
            let now = Self.now()
            while let first = heap.min, first.deadline <= now {
                let entry = heap.removeMin()
                if entry.timer.cancelled.load(ordering: .relaxed) {
                    cancelledCount.subtract(1, ordering: .relaxed)
                } else {
                    due.append(entry.timer)
                }
            }
            pthread_mutex_unlock(mutex)
            for timer in due { timer.target.timerFired(token: timer.token) }
            due.removeAll(keepingCapacity: true)
        }
    }

    /// Rebuilds the heap without cancelled timers once they are the majority,
    /// so that receives which keep finishing before their timeout do not grow it.
    private func purgeIfMostlyCancelled() {
        let cancelled = cancelledCount.load(ordering: .relaxed)
        guard heap.count > 1024, cancelled * 2 > heap.count else { return }
        var removed = 0
        let live = heap.unordered.filter { entry in
            if entry.timer.cancelled.load(ordering: .relaxed) { removed += 1; return false }
            return true
        }
        heap = Heap(live)
        cancelledCount.subtract(removed, ordering: .relaxed)
    }
}
