import CEmberShims

/// Where a process that must wait parks its task: not a place a job ever
/// runs, but an executor that keeps the jobs handed to it.
///
/// A process that waits hops to this actor's executor, saying first (in a
/// thread-local note, `ember_park_receive` or `ember_park`) what it waits
/// for. The Swift runtime then suspends the task and hands it, as a job, to
/// ``ParkingExecutor/enqueue(_:)``, on the same thread, which puts it where
/// the note says instead of running it:
/// - a receive: registered as the process's waiter. Whoever wakes the
///   process (a sender, its timeout, its exit) takes the job out of the
///   process's state and puts it on the run queue (``Scheduler/resume(_:)``);
/// - a lingering server: in its worker's later slot;
/// - a yielding process: at the back of its worker's queue.
///
/// A continuation does the same at about twice the runtime's work: its
/// resumption goes through the runtime (the task's status records are
/// updated under the task's lock) before the job reaches the scheduler, and
/// its context makes the waiting frame ~180 bytes larger.
///
/// The job then runs on the generic executor (or Ember's task executor), not
/// on this one: nothing is isolated to this actor but ``park()``, which does
/// nothing, so nothing can observe the difference, and the hop back to a
/// waiter on no actor is a check, not a switch. A waiter on an actor hops
/// back to it, as after any call.
@usableFromInline
actor ParkingLot {
    @usableFromInline static let shared = ParkingLot()

    /// Stored, and so the lot too: a lot with no stored property would be
    /// a statically initialized object, whose every use costs a call.
    private nonisolated let executor = ParkingExecutor()

    @usableFromInline nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Called (with `await`) right after a parking note: the hop to this
    /// actor is the suspension. Not inlined, so that the optimizer keeps the
    /// hop: an empty isolated call would let it drop the hop as one that
    /// nothing needs.
    @usableFromInline @inline(never)
    func park() {}
}

/// The executor of ``ParkingLot``: puts each job handed to it where the
/// parking note of its thread says.
final class ParkingExecutor: SerialExecutor {
    // Called by the runtime as the task parks, with no current task: nothing
    // here may look the current process up (`ProcessCell.current`).
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        var cell: UnsafeMutableRawPointer?
        var token: UInt64 = 0
        switch ember_take_parking(&cell, &token) {
        case ember_parking_receive:
            // Set by the parking process, whose task (this job) keeps its cell.
            Unmanaged<ProcessCell>.fromOpaque(cell.unsafelyUnwrapped)._withUnsafeGuaranteedRef {
                $0.register(job, token: token)
            }
        case ember_parking_lingering:
            // The task goes on on this worker, whose later slot it waits in.
            if Worker.withCurrent({ $0.putLater(job) }) == nil { Scheduler.resume(job) }
        case ember_parking_yielding:
            if Worker.withCurrent({ $0.pushAtBack(job) }) == nil { Scheduler.resume(job) }
        default:
            // Nothing parks on this thread: a job Ember did not send here
            // (none is known). Run it as a plain task's.
            assertionFailure("a job came to the parking lot with no parking note")
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
        }
    }
}

extension ParkingLot {
    /// The current task prefers a task executor other than Ember's own
    /// scheduler (it runs in `withTaskExecutorPreference`, or the whole task
    /// was started on one). Such a task is resumed through the parking
    /// executor (``resumeOnItsExecutor(_:)``); any other may go on wherever
    /// Ember's scheduler runs it.
    static var currentTaskPrefersAnotherExecutor: Bool {
        // A task on one of the workers that run processes prefers no executor
        // or Ember's (one that prefers another runs on that one's threads):
        // asking the runtime costs every park ~190 instructions.
        if Worker.withCurrent({ $0.hostsProcesses }) == true { return false }
        return withUnsafeCurrentTask { task in
            guard let preferred = task?.unownedTaskExecutor else { return false }
            return Scheduler.useGlobalExecutor || preferred != Runtime.shared.scheduler.asUnownedTaskExecutor()
        }
    }

    /// Resumes a parked task that prefers another executor: run here, on
    /// this actor's executor, it goes on only as far as its hop back from
    /// ``park()``, which then finds it away from its preferred executor and
    /// moves it there. (Run on the generic executor, as other parked jobs
    /// are, the runtime would believe it on its preferred executor already.)
    static func resumeOnItsExecutor(_ job: UnownedJob) {
        job.runSynchronously(on: shared.unownedExecutor)
    }
}

extension Scheduler {
    /// Puts a parked process's job (see ``ParkingLot``) on the scheduler
    /// that runs processes: in the run-next slot of this worker, if called
    /// on one of its workers (a sender waking a receiver).
    static func resume(_ job: UnownedJob) {
        if Worker.withCurrent({ $0.resumeProcess(job) }) == true { return }
        if useGlobalExecutor {
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
        } else {
            Runtime.shared.scheduler.enqueue(job, isProcess: true, isNew: false)
        }
    }
}

// Where a parked process's job goes on the worker it parks or is woken on.
extension Worker {
    /// A woken process: in the run-next slot, if this worker's scheduler
    /// runs processes; false, with nothing done, if not (the job then goes
    /// where `Scheduler.resume(_:)` puts it).
    func resumeProcess(_ job: UnownedJob) -> Bool {
        guard hostsProcesses else { return false }
        pushNext(job, isProcess: true)
        return true
    }
}
