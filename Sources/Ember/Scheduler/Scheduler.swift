import CEmberShims
import DequeModule
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The task executor on which every Ember process runs.
///
/// One worker thread per core (configurable). Each worker owns a local run
/// queue and a "run next" slot: a job made runnable by code running on a worker
/// (typically a process woken by a `send`) goes into that worker's slot, so the
/// receiver runs next on the same core while the sender's data is still in
/// cache. Jobs enqueued from foreign threads (timers, code outside Ember) go to
/// a global queue. Idle workers steal half of a busy worker's queue, spin for a
/// short while, then park.
///
/// Invariants:
/// - A worker's `next` slot and its run loop state are touched only by that
///   worker's own thread.
/// - Every job enqueued is run exactly once: it sits in exactly one of a `next`
///   slot, a local queue or the global queue until a worker takes it. (A
///   process parked in a worker's `later` slot, or as the waiter of its
///   receive, is a job held there: it is put on a queue, or run, once.)
/// - A job pushed where another worker could take it (a local queue or the
///   global queue) is followed by a wake-up if any worker is parked, so no
///   runnable job waits behind a parked worker.
final class Scheduler: TaskExecutor, @unchecked Sendable {
    // @unchecked Sendable: all mutable state is in `Mutex`/`Atomic` values or in
    // worker-owned fields that only the owning thread touches (see above).

    let workers: [Worker]
    let timers: TimerQueue
    let parker = Parker()
    private let global = Mutex(Deque<UnownedJob>())
    private let globalCount = Atomic<Int>(0)

    /// Jobs are run as the global executor's (see Scheduler+GlobalExecutor.swift).
    /// Written once, in `init`, before the worker threads start (which
    /// orders it before their reads); not checked for exclusivity, as every
    /// job reads it.
    @exclusivity(unchecked) private(set) var isGlobalExecutor = false

    /// The scheduler runs the processes (the runtime's, unless they run on
    /// Swift's default executor): a parked process woken on one of its
    /// workers goes on there (see ``resume(_:)``).
    let hostsProcesses: Bool

    /// A scheduler of `workerCount` threads; `asGlobalExecutor` installs it
    /// as the program's global executor (the runtime's scheduler, once).
    init(workerCount: Int, asGlobalExecutor: Bool = false, hostsProcesses: Bool = false) {
        self.hostsProcesses = hostsProcesses
        let count = max(1, workerCount)
        var workers: [Worker] = []
        workers.reserveCapacity(count)
        for index in 0..<count { workers.append(Worker(index: index)) }
        self.workers = workers
        self.timers = TimerQueue()
        // Should another library have taken the hooks already, processes
        // prefer this scheduler as their task executor instead (slower).
        if asGlobalExecutor { isGlobalExecutor = Self.becomeGlobalExecutor(self) }
        for worker in workers { worker.start(on: self) }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        enqueue(UnownedJob(job))
    }

    func enqueue(_ job: UnownedJob) {
        enqueue(job, isProcess: ember_take_enqueue_process() != 0, isNew: ember_take_enqueue_new() != 0)
    }

    /// Enqueues `job`: a process's if `isProcess` (only those may run in a
    /// hand-off), in this worker's queue if `isNew` (a new process's: see
    /// ``RunQueue``), otherwise in its run-next slot; in the global queue off
    /// this scheduler's workers.
    func enqueue(_ job: UnownedJob, isProcess: Bool, isNew: Bool) {
        let local = Worker.withCurrent { worker in
            guard worker.belongs(to: self) else { return false }
            if isNew {
                worker.pushNew(job)
            } else {
                worker.pushNext(job, isProcess: isProcess)
            }
            return true
        }
        if local != true {
            pushGlobal(job)
            wakeIdleWorker()
        }
    }

    private func pushGlobal(_ job: UnownedJob) {
        global.withLock { $0.append(job) }
        globalCount.add(1, ordering: .releasing)
    }

    func popGlobal() -> UnownedJob? {
        guard globalCount.load(ordering: .acquiring) > 0 else { return nil }
        let job = global.withLock { $0.popFirst() }
        if job != nil { globalCount.subtract(1, ordering: .relaxed) }
        return job
    }

    var hasGlobalWork: Bool { globalCount.load(ordering: .acquiring) > 0 }

    /// Wakes one parked worker if there is one and nobody is already looking
    /// for work.
    func wakeIdleWorker() {
        // Pairs with the fence in `Parker.park`: either the parking worker sees
        // the job we just pushed, or we see it parked.
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        parker.unparkOne()
    }

    /// Takes a job from some other worker's queue, moving half of what it holds.
    func steal(into thief: Worker) -> UnownedJob? {
        let count = workers.count
        guard count > 1 else { return nil }
        let start = thief.randomIndex(below: count)
        for offset in 0..<count {
            let victim = workers[(start + offset) % count]
            if victim === thief { continue }
            if let job = victim.stealHalf(into: thief) { return job }
        }
        return nil
    }

    /// True if there may be runnable work anywhere other than a `next` slot.
    func hasStealableWork() -> Bool {
        if hasGlobalWork { return true }
        for worker in workers where worker.queuedCount > 0 { return true }
        return false
    }
}

extension Scheduler {
    /// `EMBER_EXECUTOR=global` leaves Swift's default global executor in
    /// place and runs processes there instead of on Ember's scheduler, so
    /// that benchmarks can show the difference. Not for production use.
    static let useGlobalExecutor: Bool = {
        guard let value = getenv("EMBER_EXECUTOR") else { return false }
        return String(cString: value) == "global"
    }()

    /// True if other jobs wait for the calling thread's worker (or for any
    /// worker, when called off the scheduler): a process whose budget is
    /// spent yields only then.
    static var othersAreWaiting: Bool {
        Worker.withCurrent { $0.hasNext || $0.hasQueuedWork } ?? true
    }

    /// Suspends the calling process and puts it at the back of its worker's run
    /// queue, so that other runnable processes go first.
    static func yield() async {
        // A task that prefers another executor yields there.
        if ParkingLot.currentTaskPrefersAnotherExecutor { return await Swift.Task.yield() }
        ember_park(ember_parking_yielding)  // see ``ParkingLot``
        await ParkingLot.shared.park()
    }

    /// Ends the calling process's slice: it goes on after the work waiting
    /// for this worker. When its mailbox is empty and only the next slot
    /// holds work (typically the process it just sent to, whose answer it
    /// awaits), it lingers instead of joining the queue: an idle worker then
    /// cannot steal it away from the process it talks to, which would make
    /// every message between the two cross cores. A process with messages
    /// waiting joins the queue, where an idle worker can take it.
    ///
    /// Never inlined: its suspension would then be part of every `receive`'s
    /// async frame, which each waiting process keeps (spawn-idle measures it).
    @inline(never)
    static func endSlice(mailboxEmpty: Bool) async {
        if mailboxEmpty && mayLinger { await linger() } else { await yield() }
    }

    /// True if the calling process may linger (see ``linger()``): it runs on a
    /// worker whose later slot is free and whose queues are empty, so
    /// lingering delays nobody.
    static var mayLinger: Bool {
        Worker.withCurrent { $0.laterIsFree && !$0.hasQueuedWork } ?? false
    }

    /// Suspends the calling process until the job in this worker's next slot
    /// (typically the process it just answered) has run, on this worker: a
    /// server that just replied lets its caller run and send the next request,
    /// then looks for it, instead of going dormant and needing a new task.
    /// The lingering process is not stealable, so a second worker cannot take
    /// it and race the caller. Call it only when ``mayLinger`` is true.
    static func linger() async {
        // Parked in the later slot (see ``ParkingLot``); were the process on
        // no worker (see `mayLinger`), it goes on at once.
        ember_park(ember_parking_lingering)
        await ParkingLot.shared.park()
    }

    /// Starts a task for a new process. It waits in the run queue among the
    /// new processes (see ``RunQueue``): the "run next" slot is for
    /// processes woken by a message.
    ///
    /// Generic, throwing and `@isolated(any)` to match the operation type
    /// `Task` hands to the runtime exactly: a closure passed straight through
    /// needs no reabstraction thunk, each of which would cost every process a
    /// heap context and async frames for as long as it lives. (The closures
    /// are formed with no isolation: a process runs on no actor.)
    func start<Success: Sendable>(
        _ operation: sending @escaping @isolated(any) () async throws -> Success
    ) -> Swift.Task<Success, any Error> {
        if Worker.withCurrent({ $0.belongs(to: self) }) == true { ember_set_enqueue_new() }
        let task = startWoken(operation)
        ember_take_enqueue_new()
        return task
    }

    /// Starts the task of a dormant process woken by a message: like any
    /// process woken by a message, it runs next on this worker.
    ///
    /// A plain task when the scheduler is the global executor (see
    /// Scheduler+GlobalExecutor.swift), as the runtime's own scheduler is, or
    /// when processes run on Swift's default executor (`EMBER_EXECUTOR=global`);
    /// a task that prefers this scheduler otherwise (a scheduler of its own, in tests).
    func startWoken<Success: Sendable>(
        _ operation: sending @escaping @isolated(any) () async throws -> Success
    ) -> Swift.Task<Success, any Error> {
        if isGlobalExecutor || Self.useGlobalExecutor { return Swift.Task(operation: operation) }
        return Swift.Task(executorPreference: self, operation: operation)
    }
}
