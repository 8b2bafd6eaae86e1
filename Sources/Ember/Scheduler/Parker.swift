import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where idle workers sleep until there is work.
///
/// A wake-up is a permit: `unparkOne` grants one only while there are more
/// sleepers than outstanding permits, and a parking worker re-checks for work
/// after announcing itself, under the lock, so a job pushed concurrently is
/// either seen by the re-check or wakes the worker.
final class Parker: @unchecked Sendable {
    // @unchecked Sendable: `permits` and `sleepers` are read and written only
    // with `mutex` held; the pthread objects are allocated once here, never
    // moved, and never freed (a scheduler lives as long as the OS process).
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var permits = 0
    private var sleepers = 0
    private let sleeping = Atomic<Int>(0)

    init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    /// Parks the calling worker unless `hasWork` (checked after announcing the
    /// sleep) finds something to do.
    func park(hasWork: () -> Bool) {
        pthread_mutex_lock(mutex)
        sleepers += 1
        sleeping.store(sleepers, ordering: .sequentiallyConsistent)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if permits == 0 && !hasWork() {
            while permits == 0 { pthread_cond_wait(condition, mutex) }
        }
        if permits > 0 { permits -= 1 }
        sleepers -= 1
        sleeping.store(sleepers, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(mutex)
    }

    /// Wakes one parked worker, if any is parked and not already woken.
    func unparkOne() {
        guard sleeping.load(ordering: .sequentiallyConsistent) > 0 else { return }
        pthread_mutex_lock(mutex)
        if sleepers > permits {
            permits += 1
            pthread_cond_signal(condition)
        }
        pthread_mutex_unlock(mutex)
    }
}
