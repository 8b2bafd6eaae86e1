import Dispatch
import Testing

@testable import Ember

@Suite("Futex lock")
struct FutexLockTests {
    /// A counter that is not atomic: only the lock keeps increments from being lost.
    final class Guarded: @unchecked Sendable {
        // @unchecked Sendable: `count` is touched only while `lock` is held.
        let lock = FutexLock()
        var count = 0
    }

    @Test("one thread at a time holds the lock: no increment under it is lost, with every thread contending")
    func mutualExclusion() {
        let guarded = Guarded()
        let threads = 4, increments = 200_000
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            for _ in 0..<increments {
                guarded.lock.lock()
                guarded.count += 1
                guarded.lock.unlock()
            }
        }
        #expect(guarded.count == threads * increments)
    }

    @Test("a thread that sleeps on a held lock is woken when it is released")
    func sleeperWoken() {
        let guarded = Guarded()
        guarded.lock.lock()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            guarded.lock.lock()  // spins briefly, then sleeps in the kernel
            guarded.count = 1
            guarded.lock.unlock()
            done.signal()
        }
        // Hold the lock until the other thread has marked it and gone to sleep.
        let deadline = DispatchTime.now() + 10
        while !guarded.lock.hasSleepers && DispatchTime.now() < deadline {}
        let slept = guarded.lock.hasSleepers
        #expect(slept)
        guarded.count = 2
        guarded.lock.unlock()
        #expect(done.wait(timeout: .now() + 10) == .success)
        guarded.lock.lock()
        #expect(guarded.count == 1)
        guarded.lock.unlock()
    }
}
