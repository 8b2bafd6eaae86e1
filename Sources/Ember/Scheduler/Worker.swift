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

/// One scheduler thread with its run queue.
final class Worker: @unchecked Sendable {
    // @unchecked Sendable: `next`, `later`, `nextStreak`, `laterPassed`, `jobTask`, `runningCell`, `rng`, `tick` and
    // `spreadCursor` are touched only by this worker's own thread; `jobs` is touched only under `queueLock`;
    // `schedulerRef`, `runsGlobalExecutorJobs`, `hostsProcesses` and `workerCount` are set once before the thread starts.

    /// How many jobs in a row may run from the `next` slot before it is
    /// demoted to the back of the queue; keeps two processes playing
    /// ping-pong from starving the rest of the queue.
    static let nextSlotStreakLimit = 3
    /// How often (in jobs) the global queue is checked before local work.
    static let globalCheckInterval: UInt32 = 61
    static let spinRounds = 64

    let index: Int
    /// Set in start(on:), before the thread exists; the scheduler outlives
    /// its workers. Unmanaged, and lent with `withScheduler`: reading an
    /// unowned(unsafe) reference retains and releases it.
    private var schedulerRef: Unmanaged<Scheduler>?
    /// The scheduler's `isGlobalExecutor`, copied in start(on:): read at every job.
    private var runsGlobalExecutorJobs = false
    /// The scheduler's `hostsProcesses`, copied in start(on:): read at every wake-up.
    private(set) var hostsProcesses = false
    /// Guards `jobs`, which thieves take from (see `withQueue`).
    private let queueLock = FutexLock()
    @exclusivity(unchecked) private var jobs = RunQueue<UnownedJob>()
    private let queued = Atomic<Int>(0)
    // Exclusivity is not checked dynamically on the fields below: only this
    // worker's thread touches them, and they are read on every job.
    @exclusivity(unchecked) private var next: UnownedJob?
    /// A lingering process (see Scheduler.linger), parked: run on this
    /// worker once nothing is in the next slot, ahead of the queue only while
    /// the queue is empty; never stolen. A server that just replied waits here
    /// for its caller's next request.
    @exclusivity(unchecked) private var later: UnownedJob?
    @exclusivity(unchecked) private var nextStreak = 0
    /// Jobs run from the next slot since a process began to linger (see `passLater`).
    @exclusivity(unchecked) private var laterPassed = 0
    @exclusivity(unchecked) private var tick: UInt32 = 0
    @exclusivity(unchecked) private var rng: UInt64
    /// The task of the job this worker runs: the job's address, which is its
    /// task's for a task's job (an actor's job, which runs the tasks waiting
    /// on the actor, matches none of them). Set at the start of each job.
    @exclusivity(unchecked) private var jobTask: UInt = 0
    /// The process of `jobTask`, noted by that task (see
    /// `ProcessCell.withCurrent`) so that it finds itself again without a
    /// lookup in the runtime's ``TaskOwners``. Cleared at the start of each
    /// job, so a note is always one made during the running job by the job's
    /// own task: that task runs, so it is alive and keeps its process's cell.
    /// (A note must not outlive its job: the address of a task that moved
    /// on and ended may be given to a new task.) Not retained, as it is read
    /// at every send.
    @exclusivity(unchecked) private var runningCell: Unmanaged<ProcessCell>?

    /// The process noted by `task`, if `task` is the running job's.
    @inline(__always)
    func runningProcess(for task: UInt) -> Unmanaged<ProcessCell>? {
        task == jobTask ? runningCell : nil
    }

    /// Notes `process` as running here, if `task`, the process's own task,
    /// is the running job's.
    @inline(__always)
    func noteRunning(_ process: ProcessCell, task: UInt) {
        if task == jobTask { runningCell = .passUnretained(process) }
    }

    /// Forgets the note: the process body of the running job's task is done.
    @inline(__always)
    func forgetRunning() {
        runningCell = nil
    }

    /// The workers of this worker's scheduler, copied in start(on:).
    @exclusivity(unchecked) private var workerCount = 1
    /// Where ``spread(over:)`` is in this worker's share.
    @exclusivity(unchecked) private var spreadCursor = 0

    /// An index in `0..<count`, the next one of this worker's own share of
    /// that range at each call (see ``share(of:among:over:)``): the calling
    /// thread spreads its use of sharded state over shards that no other
    /// worker picks, so that their cache lines stay with its core. On the
    /// worker's own thread only.
    @inline(__always)
    func spread(over count: Int) -> Int {
        let share = Self.share(of: index, among: workerCount, over: count)
        spreadCursor = spreadCursor + 1 < share.count ? spreadCursor + 1 : 0
        return share.lowerBound + spreadCursor
    }

    /// Worker `index`'s share of `0..<count`, among `workers`: consecutive
    /// indices apart from the other workers', which together cover the
    /// range (when there are more workers than indices, one index, shared).
    @inline(__always)
    static func share(of index: Int, among workers: Int, over count: Int) -> Range<Int> {
        guard workers <= count else { return index % count..<index % count + 1 }
        return index * count / workers..<(index + 1) * count / workers
    }

    init(index: Int) {
        self.index = index
        self.rng = 0x9E37_79B9_7F4A_7C15 &* UInt64(index + 1)
    }

    /// Runs `body` with the calling thread's worker; nil off the scheduler.
    /// The worker is lent without a retain: the pointer was stored by
    /// `run()` from an object the scheduler keeps alive forever.
    @inline(__always)
    static func withCurrent<Result>(_ body: (Worker) throws -> Result) rethrows -> Result? {
        guard let raw = ember_current_worker() else { return nil }
        return try Unmanaged<Worker>.fromOpaque(raw)._withUnsafeGuaranteedRef(body)
    }

    var queuedCount: Int { queued.load(ordering: .relaxed) }

    /// Jobs wait in this worker's queue or in the global queue.
    var hasQueuedWork: Bool { queuedCount > 0 || withScheduler { $0.hasGlobalWork } }

    @inline(__always)
    func withScheduler<Result>(_ body: (Scheduler) -> Result) -> Result {
        schedulerRef.unsafelyUnwrapped._withUnsafeGuaranteedRef(body)
    }

    /// A job waits in the next slot. Only meaningful on the worker's own thread.
    var hasNext: Bool { next != nil }

    /// The job in the next slot is a process's, woken from parking (see
    /// `Worker.resumeProcess`) or from dormancy (see `ember_set_enqueue_process`): only such a job
    /// may run in a hand-off. Any other (an actor's, a plain task's) may run
    /// for long or wait on the very process that would host it.
    @exclusivity(unchecked) private var nextIsProcess = false

    /// A job runs inside another one (see `handOff()`).
    @exclusivity(unchecked) private var handingOff = false

    /// A job runs inside another one on this thread. Only meaningful on the worker's own thread.
    var isHandingOff: Bool { handingOff }

    /// Runs the job in the next slot now, inside the running process, which
    /// is about to wait for a message with no timeout: a hand-off. The
    /// process it just woke (typically the one it asked something) runs
    /// without the waiting one suspending first; if it answers, the waiting
    /// process finds the answer and goes on without having suspended at all.
    /// On one worker that is half the task switches of a request and reply.
    ///
    /// The Swift runtime supports a job run inside another: it saves and
    /// restores the current task, the executor tracking and the exclusivity
    /// accesses around it. One level only: a job run this way does not hand
    /// off in turn, so the thread's stack stays bounded. False, with nothing
    /// run, if the calling thread is no worker, the next slot is empty,
    /// a hand-off is under way, or the next slot's streak is spent while
    /// other work waits in this worker's queue or the global queue.
    static func handOff() -> Bool {
        withCurrent { $0.runNextInPlace() } ?? false
    }

    private func runNextInPlace() -> Bool {
        guard !handingOff, next != nil, nextIsProcess else { return false }
        // A process that keeps handing off (each one it runs wakes the next,
        // as around a ring) keeps the worker from its run loop: it heeds the
        // same streak limit, counting the global queue too, as the run loop's
        // periodic look at it does not happen during such a chain.
        if nextStreak >= Self.nextSlotStreakLimit && hasQueuedWork { return false }
        let job = takeNextInStreak()
        // The job inside is a job of its own: the running one's task and
        // note come back after it.
        let (outerTask, outerNote) = (jobTask, runningCell)
        handingOff = true
        runJob(job)
        handingOff = false
        (jobTask, runningCell) = (outerTask, outerNote)
        return true
    }

    /// This worker is one of `scheduler`'s.
    @inline(__always)
    func belongs(to scheduler: Scheduler) -> Bool {
        schedulerRef?.toOpaque() == Unmanaged.passUnretained(scheduler).toOpaque()
    }

    func start(on scheduler: Scheduler) {
        schedulerRef = .passUnretained(scheduler)
        runsGlobalExecutorJobs = scheduler.isGlobalExecutor
        hostsProcesses = scheduler.hostsProcesses
        workerCount = scheduler.workers.count
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            let worker = Unmanaged<Worker>.fromOpaque(raw!).takeRetainedValue()
            worker.run()
            return nil
        }, context)
        precondition(result == 0, "Ember could not start a scheduler thread (errno \(result))")
        pthread_detach(thread)
    }

    /// Puts `job` in the next slot. An earlier job there is displaced into
    /// the stealable queue, where an idle worker may take it.
    func pushNext(_ job: UnownedJob, isProcess: Bool) {
        nextIsProcess = isProcess
        guard let previous = next else {
            next = job
            return
        }
        next = job
        pushAtBack(previous)
    }

    /// Takes the job in the next slot (there must be one) as one more of
    /// the streak, whether the run loop or a hand-off runs it.
    @inline(__always)
    private func takeNextInStreak() -> UnownedJob {
        let job = next.unsafelyUnwrapped
        next = nil
        nextStreak += 1
        passLater()
        return job
    }

    /// How many jobs may run from the next slot while a process lingers in
    /// the later slot before it joins the queue instead.
    static let laterPatience = 64

    /// Counts a job run from the next slot while a process lingers in the
    /// later slot. The later slot waits for the next slot to be empty, which
    /// a ping-pong passing it back and forth never lets happen: after
    /// `laterPatience` such jobs the lingering process joins the queue, where
    /// the streak limit gives it its turn. (Lingering is normally over within
    /// a job or two: the process it woke answers and is done.)
    @inline(__always)
    private func passLater() {
        guard let lingering = later else { return }
        laterPassed += 1
        guard laterPassed >= Self.laterPatience else { return }
        later = nil
        pushAtBack(lingering)
    }

    /// Puts a lingering process in the later slot. One already there goes to
    /// the back of the queue. Called on the worker's own thread only, by the
    /// parking executor as the process's task parks: the worker looks at the
    /// slot only after that job has returned.
    func putLater(_ process: UnownedJob) {
        if let previous = later { pushAtBack(previous) }
        later = process
        laterPassed = 0
    }

    /// The later slot is free. Only meaningful on the worker's own thread.
    var laterIsFree: Bool { later == nil }

    /// Puts a parked process at the back of this worker's queue, where an
    /// idle worker may steal it.
    func pushAtBack(_ process: UnownedJob) {
        pushLocal(process)
        withScheduler { $0.wakeIdleWorker() }
    }

    /// Runs `body` on the queue, under its lock.
    @inline(__always)
    private func withQueue<Result>(_ body: (inout RunQueue<UnownedJob>) -> Result) -> Result {
        queueLock.withLock { body(&jobs) }
    }

    /// Queues `job` as a waiting job, or as a new process's if `isNew`
    /// (see ``RunQueue``).
    func pushLocal(_ job: UnownedJob, isNew: Bool = false) {
        withQueue { isNew ? $0.appendNew(job) : $0.append(job) }
        queued.add(1, ordering: .releasing)
    }

    /// Puts a new process in this worker's queue, among the new ones (see
    /// ``RunQueue``), where an idle worker may steal it.
    func pushNew(_ process: UnownedJob) {
        pushLocal(process, isNew: true)
        withScheduler { $0.wakeIdleWorker() }
    }

    private func popLocal() -> UnownedJob? {
        guard queued.load(ordering: .acquiring) > 0 else { return nil }
        let job = withQueue { $0.take() }
        if job != nil { queued.subtract(1, ordering: .relaxed) }
        return job
    }

    /// Called by a thief: moves half of this worker's queue to `thief` and
    /// returns one job to run.
    func stealHalf(into thief: Worker) -> UnownedJob? {
        guard queued.load(ordering: .acquiring) > 0 else { return nil }
        var stolen = withQueue { $0.takeHalf() }
        guard !stolen.isEmpty else { return nil }
        queued.subtract(stolen.count, ordering: .relaxed)
        let first = stolen.take()
        if !stolen.isEmpty {
            thief.withQueue { $0.append(contentsOf: stolen) }
            thief.queued.add(stolen.count, ordering: .releasing)
        }
        return first
    }

    func randomIndex(below bound: Int) -> Int {
        rng ^= rng << 13
        rng ^= rng >> 7
        rng ^= rng << 17
        return Int(rng % UInt64(bound))
    }

    private func findWork() -> UnownedJob? {
        tick &+= 1
        if tick % Self.globalCheckInterval == 0, let job = withScheduler({ $0.popGlobal() }) {
            return job
        }
        if let job = next {
            // The streak limit matters only when others wait: two processes
            // playing ping-pong on an otherwise idle worker keep their core.
            if nextStreak < Self.nextSlotStreakLimit || queued.load(ordering: .relaxed) == 0 {
                return takeNextInStreak()
            }
            next = nil
            pushLocal(job)
        }
        nextStreak = 0
        if let lingering = later {
            later = nil
            // Queued jobs go first: the lingering process joins them, where it
            // may be stolen. Otherwise it runs now.
            guard queued.load(ordering: .relaxed) > 0 else { return lingering }
            pushAtBack(lingering)
        }
        return takeQueued()
    }

    /// A job from this worker's queue, else the global queue, else stolen
    /// from another worker's.
    private func takeQueued() -> UnownedJob? {
        popLocal() ?? withScheduler { $0.popGlobal() ?? $0.steal(into: self) }
    }

    /// Runs `job` as the global executor's, with no task executor in effect
    /// but the job's own preference (processes have none), or as this
    /// scheduler's, a task executor, for the tasks that prefer it.
    @inline(__always)
    private func runJob(_ job: UnownedJob) {
        let address = unsafeBitCast(job, to: UnsafeMutableRawPointer.self)
        (jobTask, runningCell) = (UInt(bitPattern: address), nil)
        if runsGlobalExecutorJobs {
            ember_run_job_on_generic_executor(address)
        } else {
            job.runSynchronously(on: withScheduler { $0.asUnownedTaskExecutor() })
        }
    }

    private func run() {
        ember_set_current_worker(Unmanaged.passUnretained(self).toOpaque())
        while true {
            if let job = findWork() {
                runJob(job)
                continue
            }
            var found: UnownedJob?
            for _ in 0..<Self.spinRounds {
                for _ in 0..<32 { ember_cpu_relax() }
                if let job = takeQueued() {
                    found = job
                    break
                }
            }
            if let job = found {
                runJob(job)
                continue
            }
            withScheduler { scheduler in
                scheduler.parker.park {
                    self.queued.load(ordering: .acquiring) > 0 || scheduler.hasStealableWork()
                }
            }
        }
    }
}
