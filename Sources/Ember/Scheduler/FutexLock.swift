import CEmberShims
import Synchronization

/// A lock word for the runtime's short, hot critical sections: a process's
/// state, a worker's run queue.
///
/// `Mutex` on Linux is a priority-inheriting futex: under contention every
/// waiter goes through the kernel's rt-mutex, which dominated fan-in (a
/// hundred senders on two threads appending to one mailbox). This one takes
/// the word with one compare-and-swap when it is free, spins briefly when it
/// is not, and only then sleeps on a plain futex. It guards no value of its
/// own: the owner keeps the guarded fields beside it (see
/// ``ProcessCell/withState(_:)``).
struct FutexLock: ~Copyable, Sendable {
    /// 0 unlocked, 1 locked, 2 locked with sleepers (see `ember_futex_lock_contended`).
    private let word = Atomic<UInt32>(0)

    init() {}

    @inline(__always)
    func lock() {
        if word.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged { return }
        withWord { ember_futex_lock_contended($0) }
    }

    @inline(__always)
    func unlock() {
        if word.exchange(0, ordering: .releasing) == 2 { withWord { ember_futex_wake_one($0) } }
    }

    /// Runs `body` holding the lock: the one way the guarded fields beside
    /// it are reached (see the owners' `withState`, `withQueue`, `withInbox`).
    @inline(__always)
    func withLock<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        lock()
        defer { unlock() }
        return try body()
    }

    /// A thread waits for the lock, or has waited since it was last free.
    var hasSleepers: Bool { word.load(ordering: .relaxed) == 2 }

    /// The word's address, for the futex calls. Unsafe pointer: an `Atomic`
    /// is never moved while borrowed, and a `FutexLock` is only ever stored
    /// in a class instance, so the address is the word's own for as long as
    /// the lock exists; `Atomic<UInt32>` has the layout of a `UInt32`, and
    /// the C side touches it only with atomic operations.
    @inline(__always)
    private func withWord(_ body: (UnsafeMutablePointer<UInt32>) -> Void) {
        withUnsafePointer(to: word) { body(UnsafeMutableRawPointer(mutating: $0).assumingMemoryBound(to: UInt32.self)) }
    }
}
