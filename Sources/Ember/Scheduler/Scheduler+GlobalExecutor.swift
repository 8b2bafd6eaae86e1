import CEmberShims

// Ember's scheduler as the program's global concurrent executor.
//
// A process could run on the scheduler as a task with an executor preference
// (SE-0417), but the Swift runtime then looks the preference up, under the
// task's status lock, at every hop to the generic executor and at every
// resumption: several lock round trips per message. A task with no
// preference costs a flag check instead. So the scheduler takes the place of
// the default global executor (the runtime's `swift_task_enqueueGlobal_hook`)
// and processes start as plain tasks: every job the runtime would hand its
// global executor, for processes or for any other task of the program, runs on
// the scheduler's workers, which do what the default executor's threads do
// (one per core, cooperative). Delayed jobs that the runtime hands to the
// delay hooks wait in the scheduler's timer queue; Swift 6.3's `Task.sleep`
// does not use them (its timer is Dispatch's), and the sleeping task resumes
// through the enqueue hook, on the scheduler.

extension Scheduler {
    /// Installs `scheduler` as the global executor (see above). Once, before
    /// the first process starts; never undone. False, with nothing installed,
    /// if another global executor hook is in place.
    static func becomeGlobalExecutor(_ scheduler: Scheduler) -> Bool {
        // Called from `init`, before the workers start: what `scheduler` is
        // used for here (its timers, its queues) is already initialized.
        precondition(globalInstance == nil, "Ember installs one global executor")
        // Retained for ever: the hooks stay installed for the program's life.
        globalInstance = .passRetained(scheduler)
        let installed = ember_install_global_executor(
            { raw in Scheduler.withGlobal { $0.enqueue(UnownedJob(raw: raw)) } },
            { nanoseconds, raw in Scheduler.withGlobal { $0.enqueue(UnownedJob(raw: raw), after: nanoseconds) } })
        if installed == 0 {
            globalInstance?.release()
            globalInstance = nil
        }
        return installed != 0
    }

    /// Runs `body` with the scheduler installed as the global executor, lent
    /// without a retain (it is never released). Called only by the hooks
    /// above, which the runtime calls only once it is installed.
    @inline(__always)
    fileprivate static func withGlobal(_ body: (Scheduler) -> Void) {
        globalInstance.unsafelyUnwrapped._withUnsafeGuaranteedRef(body)
    }

    /// Enqueues `job` once `nanoseconds` have passed.
    func enqueue(_ job: UnownedJob, after nanoseconds: UInt64) {
        timers.schedule(after: nanoseconds, target: DelayedJob(job, on: self), token: 0)
    }
}

// Written once by `becomeGlobalExecutor`, before the hooks that read it are
// installed (the hook's store follows it on that thread, and the runtime
// reads the hook before calling it), and never again once they are; cleared
// there only if they could not be installed, when nothing reads it.
nonisolated(unsafe) private var globalInstance: Unmanaged<Scheduler>?

extension UnownedJob {
    /// The job behind a runtime `Job *` handed to a global executor hook:
    /// `UnownedJob` is exactly that pointer.
    fileprivate init(raw: UnsafeMutableRawPointer) {
        self = unsafeBitCast(raw, to: UnownedJob.self)
    }
}

/// A job the runtime delayed through a delay hook, waiting in the timer
/// queue for its time.
private final class DelayedJob: TimerTarget, @unchecked Sendable {
    // @unchecked Sendable: both fields are set once; the job is enqueued once,
    // by the timer thread, when the timer fires (it is never cancelled).
    private let job: UnownedJob
    private let scheduler: Scheduler

    init(_ job: UnownedJob, on scheduler: Scheduler) {
        self.job = job
        self.scheduler = scheduler
    }

    func timerFired(token: UInt64) {
        scheduler.enqueue(job)
    }

    func isTimerPending(token: UInt64) -> Bool { true }
}
