import CEmberShims
import DequeModule
import Synchronization

/// Why a parked receiver was resumed (see ``ProcessCell/wake``).
enum Wake: Sendable {
    /// A message, handed over by its sender.
    case message(Envelope)
    /// Messages that had arrived when the receiver went to wait.
    case messages(ContiguousArray<Envelope>)
    /// The receive's timeout fired.
    case timeout
    /// The process exited while waiting (killed or hit by an exit signal).
    case exited
}

/// The address of the current Swift task, or 0 outside tasks: an identity
/// to compare, never dereferenced (nor retained). It is the task, not the job
/// a worker runs: an actor's job runs the tasks waiting on that actor.
@inline(__always)
func taskIdentity() -> UInt {
    UInt(ember_current_task())
}

/// How one task of a process ended.
enum Turn: Sendable {
    /// The process is finished: it exits `normal`.
    case finished
    /// The process waits, with no task, for its next message.
    case dormant
}

/// The Swift task of a process. It never throws: it is typed as throwing
/// because the throwing `Task` initializer hands its operation to the runtime
/// as is, where the non-throwing one wraps it in a thunk (see
/// ``Scheduler/start(_:)``).
typealias SwiftTaskOfProcess = Swift.Task<Void, any Error>

/// What a task of a process runs. One type for every kind of process, so
/// that a plain body needs no adapting closure (each would cost every
/// process a heap context and async frames while it waits).
enum ProcessEntry: Sendable {
    /// A plain process body: returning exits `normal`.
    case body(ProcessBody)
    /// A body that may leave the process dormant (a server starting up).
    case server(@Sendable () async throws -> Turn)
    /// A dormant process woken by a message: serve its messages with the handler.
    case handler(any MessageHandler)
}

/// What a dormant process does with its messages: GenServer, Agent and the
/// supervisors run on one, so an idle one holds no suspended Swift task.
protocol MessageHandler: AnyObject, Sendable {
    /// Handles one message, inside the process. Throw to exit.
    func handle(_ envelope: Envelope) async throws

    /// Handles the messages of `process` until it goes dormant, with
    /// ``ProcessCell/serve(_:)``. A handler of a concrete class implements it
    /// as `try await process.serve(self)`: the loop is then inlined with the
    /// handler's own type, so each message is handed over by a direct call
    /// rather than through the protocol (which costs an executor check on return).
    func serve(in process: ProcessCell) async throws -> Turn

    /// The handler waits for its next message with a timeout of its own (a
    /// GenServer's `.timeout`): the process then neither hands off nor
    /// lingers when its mailbox is empty, but goes dormant, so that the
    /// timeout wakes it on any worker, on time.
    var waitsWithTimeout: Bool { get }
}

extension MessageHandler {
    func serve(in process: ProcessCell) async throws -> Turn {
        try await process.serve(self)
    }

    var waitsWithTimeout: Bool { false }
}

/// The runtime's side of one process: its state machine behind a lock, and
/// the mailbox part private to the process itself.
///
/// Storage rules:
/// - `lockedState` is shared: any thread may deliver, signal or inspect, under its lock (``withState(_:)``).
/// - `saved`, `budget`, `wake` and the other process-private fields belong to
///   the process's own task: only code running as this process touches them
///   (a task runs on one thread at a time, and suspension points order its
///   accesses) — and, while the process is parked, whoever took its parked
///   job out of `lockedState`, until it puts the job on the scheduler (see
///   ``resume(_:_:)``).
@usableFromInline
final class ProcessCell: @unchecked Sendable, TimerTarget {
    // @unchecked Sendable: see the storage rules above.
    /// The job of the process's task, parked (see ``ParkingLot``).
    typealias Waiter = UnownedJob

    /// The process the current task runs as: nil outside processes and in
    /// Swift tasks created inside a process (`async let`, task groups,
    /// `Task {}`), which are not the process and must not touch its mailbox.
    ///
    /// On a scheduler thread the worker notes the process running in the
    /// current job, so that it finds itself again without a lookup in the
    /// runtime's ``TaskOwners`` (see `Worker.runningCell`).
    @usableFromInline
    static var current: ProcessCell? { withCurrent { $0 } }

    /// Runs `body` with the process the current task runs as (see
    /// ``current``), lent without a retain; nil outside processes.
    @inline(__always)
    static func withCurrent<Result>(_ body: (ProcessCell) throws -> Result) rethrows -> Result? {
        let task = taskIdentity()
        guard task != 0 else { return nil }
        // A note for this task is this task's own, made during the running
        // job: its process is alive while the task runs (see `Worker.runningCell`).
        if let found = Worker.withCurrent({ $0.runningProcess(for: task) }), let found {
            return try found._withUnsafeGuaranteedRef(body)
        }
        // Found, the entry is this task's own: its process is alive while
        // the task runs (see `TaskOwners`).
        guard let found = Runtime.shared.withOwners({ $0.process(of: task) }) else { return nil }
        return try found._withUnsafeGuaranteedRef { cell in
            Worker.withCurrent { $0.noteRunning(cell, task: task) }
            return try body(cell)
        }
    }

    /// Whether what the current task sends may be delivered, counting the
    /// send against the sender's budget: false only if the sender is a
    /// process that is dead. A killed process is dead for everyone at once,
    /// even before its code reaches a suspension point: what it sends now
    /// goes nowhere.
    @usableFromInline
    static func chargeSendOfCurrent() -> Bool {
        withCurrent { sender in
            guard sender.isAlive else { return false }
            sender.chargeSend()
            return true
        } ?? true
    }

    /// Sends and receives between two voluntary yields (the BEAM counts
    /// reductions). A send cannot suspend, so the yield happens at the next
    /// receive once the budget is spent.
    static let budgetPerSlice: Int32 = 200

    // Stored properties are laid out in declaration order, in three groups,
    // so that what senders write and what the running process writes never
    // share a 64-byte cache line (a receiver draining a mailbox that another
    // core fills would otherwise lose the line at every message): first what
    // senders write (beside the object's header, whose reference count they
    // change too); then read-mostly fields and `wake` (written only while
    // the process is parked), 97 bytes; then what the process writes as it
    // runs. Within each group the order leaves no padding (every process
    // keeps a cell).

    /// Guards `lockedState` (see ``withState(_:)``).
    private let stateLock = FutexLock()
    /// Set after a message is queued in `lockedState.incoming`, cleared by the
    /// process before it takes them: when it is clear, looking for arrivals
    /// can skip the lock. A hint only: waiting always checks under the lock.
    let arrivalsMayWait = Atomic<Bool>(false)
    /// What other processes touch: only under `stateLock`, through ``withState(_:)``.
    @exclusivity(unchecked) private var lockedState = ProcessState<Waiter>()

    let id: UInt32
    let serial: UInt32
    let origin: SpawnOrigin

    /// Mirrors `lockedState.isAlive` for lock-free reads.
    private let alive = Atomic<Bool>(true)
    /// Why the parked process was resumed, and the message handed to it:
    /// written by its waker (see the storage rules); moved out by the
    /// process as it goes on.
    @exclusivity(unchecked) var wake = Wake.exited
    // Exclusivity is not checked dynamically on the process-private fields:
    // only the process's own task touches them (see the storage rules).
    /// The process parked with a task executor preference of its own (see
    /// ``look(accepting:timeout:handingOff:_:)``): it is resumed through the
    /// parking executor.
    @exclusivity(unchecked) var parkedAwayFromItsExecutor = false
    /// A receive's matcher runs on a saved message, read in place: taking
    /// messages out of `saved` now (``takeAll()``, ``removeMessages(where:)``)
    /// would pull the message from under it.
    @exclusivity(unchecked) var isMatching = false
    @exclusivity(unchecked) var budget = ProcessCell.budgetPerSlice
    /// Messages the process has taken from `lockedState.incoming` and not yet consumed.
    @exclusivity(unchecked) var saved = MessageBuffer()
    /// The saved messages that the receive that waits has offered to its
    /// matcher (see ``receive(timeout:accepting:scanned:_:)``): kept here,
    /// not in the receive's frame, which is the caller's. One receive is
    /// enough to keep for: only the process's own task receives, one
    /// receive at a time (a matcher is synchronous, and a process run in a
    /// hand-off beneath this one has a cell of its own).
    @exclusivity(unchecked) var receiveScanned = 0
    /// `saved.count`, published for ``Pid/info()`` calls from other processes.
    let savedCount = Atomic<Int>(0)
    /// The token of the latest receive timeout (see ``armTimer()``), with
    /// `disarmed` set once that receive is over. Only the process changes
    /// it; the timer thread reads it.
    private let armedTimer = Atomic<UInt64>(ProcessCell.disarmed)

    /// Runs `body` on the process's state, under its lock. Keep it short:
    /// senders on every thread take this lock.
    @inline(__always)
    func withState<Result, Failure: Error>(
        _ body: (inout ProcessState<Waiter>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        // Not through `FutexLock.withLock`: the closure around `body` cost
        // ping-pong 2% more instructions (callgrind), on the hottest lock.
        stateLock.lock()
        defer { stateLock.unlock() }
        return try body(&lockedState)
    }

    init(id: UInt32, serial: UInt32, origin: SpawnOrigin) {
        self.id = id
        self.serial = serial
        self.origin = origin
    }

    var pid: Pid { Pid(cell: self) }
    var isAlive: Bool { alive.load(ordering: .acquiring) }

    // MARK: Signals from anywhere

    func deliver<Message: Sendable>(_ message: Message) {
        deliver(Envelope(boxing: message))
    }

    @usableFromInline
    func deliver(_ envelope: consuming Envelope) {
        // Moved, never copied, into the mailbox: a copy would retain the
        // box and release it again.
        var envelope = Optional(envelope)
        complete(withState { $0.deliver(envelope.take().unsafelyUnwrapped) })
    }

    /// Finishes a delivery outside the lock: resumes the receiver the message
    /// was handed to, or starts the task of a dormant process.
    func complete(_ delivery: consuming ProcessState<Waiter>.Delivery) {
        switch consume delivery {
        case .queued: arrivalsMayWait.store(true, ordering: .releasing)
        case .dropped: break
        case .handed(let waiter, let envelope): resume(waiter, .message(consume envelope))
        case .wake(let handler, let generation):
            arrivalsMayWait.store(true, ordering: .releasing)
            wake(handler, generation: generation)
        }
    }

    func exitSignal(from sender: Pid, reason: ExitReason, kind: ExitSignalKind) {
        let outcome = withState { $0.receiveExitSignal(from: sender, reason: reason, kind: kind, me: pid) }
        // Consumed: a departure bound from a borrowed outcome is copied (its
        // reason, relations, task) and then destroyed twice over.
        switch consume outcome {
        case .ignored: break
        case .delivered(let delivery): complete(consume delivery)
        case .exited(let departure): depart(departure)
        }
    }

    /// Ends the process with `reason` unless it already ended. Returns false if it had.
    @discardableResult
    func terminate(_ reason: ExitReason) -> Bool {
        guard let departure = withState({ $0.exit(reason) }) else { return false }
        depart(departure)
        return true
    }

    func timerFired(token: UInt64) {
        // Read under the lock: a receive disarms its timer before its process
        // waits again, so a waiter found here with the token still armed is
        // that receive's, never a later one's.
        let waiter = withState { isTimerPending(token: token) ? $0.timerFired(token: token) : nil }
        if let waiter { resume(waiter, .timeout) }
    }

    func isTimerPending(token: UInt64) -> Bool {
        armedTimer.load(ordering: .relaxed) == token
    }

    /// Arms a new receive timeout: returns its token, never 0, which the
    /// timer thread sees before it sees the timer (the queue's lock orders the two).
    func armTimer() -> UInt64 {
        let last = armedTimer.load(ordering: .relaxed) & ~Self.disarmed
        // Below `disarmed`, never 0: after 2^63 - 1 receives it starts over at 1.
        let token = last == Self.disarmed - 1 ? 1 : last + 1
        armedTimer.store(token, ordering: .relaxed)
        return token
    }

    /// The token of the armed receive timeout, if one is armed: the
    /// receive under way armed it (``disarmTimer()`` ends each).
    var armedToken: UInt64? {
        let token = armedTimer.load(ordering: .relaxed)
        return token & Self.disarmed == 0 ? token : nil
    }

    /// The receive whose timeout is armed, if any, is over: its timer, if it
    /// fires, does nothing, and the queue drops it.
    func disarmTimer() {
        if let token = armedToken { armedTimer.store(token | Self.disarmed, ordering: .relaxed) }
    }

    /// Set in ``armedTimer`` once its receive is over.
    private static let disarmed: UInt64 = 1 << 63

    /// Carries out a departure: the process is dead for everyone from here on.
    /// Its task is cancelled, unless it is the task that is ending here.
    private func depart(_ departure: Departure<Waiter>, cancellingTask: Bool = true) {
        alive.store(false, ordering: .releasing)
        Runtime.shared.processDidExit(self, departure)
        if let waiter = departure.waiter { resume(waiter, .exited) }
        if cancellingTask { departure.task?.cancel() }
    }

    /// Records the process's task; cancels it at once if the process already
    /// died (it can be killed before its task exists).
    func attach(_ task: SwiftTaskOfProcess, generation: UInt32 = 0) {
        if !withState({ $0.attach(task, generation: generation) }) { task.cancel() }
    }

    /// Starts a task to handle the messages of a dormant process. Kept out
    /// of ``complete(_:)``: inlined, its task creation made every delivery
    /// instantiate type metadata first.
    @inline(never)
    private func wake(_ handler: any MessageHandler, generation: UInt32) {
        ember_set_enqueue_process()  // the new task's job is this process's
        let task = Runtime.shared.scheduler.startWoken { [self] in await self.run(.handler(handler)) }
        ember_take_enqueue_process()
        attach(task, generation: generation)
    }

    // MARK: The process's own side

    /// The body of the process's task: runs one task of the process, `entry`
    /// as the process, then its exit — unless it left the process dormant,
    /// waiting for messages.
    ///
    /// Its async frame stays small (every waiting process keeps it): the
    /// work before and after the body is in synchronous functions.
    func run(_ entry: ProcessEntry) async {
        let turn: Result<Turn, any Error>
        if isAlive {
            beginOwnership()
            do {
                switch entry {
                case .body(let body):
                    try await body()
                    turn = .success(.finished)
                case .server(let body): turn = .success(try await body())
                case .handler(let handler): turn = .success(try await handler.serve(in: self))
                }
            } catch {
                turn = .failure(error)
            }
            endOwnership()
        } else {
            // Killed before it ever ran: the body does not start.
            turn = .failure(ExitReason.killed)
        }
        endTurn(turn)
    }

    /// Makes the running task this process's, before its body runs: the task
    /// finds its process from here on (see ``current``).
    @inline(never)
    private func beginOwnership() {
        Runtime.shared.withOwners { $0.insert(taskIdentity(), self) }
        noteRunning()
    }

    /// After the body: what runs now is not the process any more. The
    /// worker's note is this task's, if any (notes last one job).
    @inline(never)
    private func endOwnership() {
        Worker.withCurrent { $0.forgetRunning() }
        Runtime.shared.withOwners { $0.remove(taskIdentity()) }
    }

    /// After a task's body: the process exits, with the reason the body gave,
    /// unless the body left it dormant.
    @inline(never)
    private func endTurn(_ turn: Result<Turn, any Error>) {
        if case .success(.dormant) = turn { return }
        saved = MessageBuffer()
        // Killed, or ended by an exit signal: its exit is done already, and
        // the error it unwound with needs no look.
        guard isAlive else { return }
        let reason: ExitReason
        var crash: (any Error)?
        switch turn {
        case .success: reason = .normal  // finished (a dormant turn returned above)
        case .failure(let exit as ExitReason): reason = exit
        case .failure(let error):
            reason = .error(error)
            crash = error
        }
        if let departure = withState({ $0.exit(reason) }) {
            if let crash { CrashReport.log(process: self, error: crash) }
            // The process's task is the one running this, about to end.
            depart(departure, cancellingTask: false)
        }
    }

    /// Handles messages with `handler` until none is waiting, then leaves the
    /// process dormant: alive, with no Swift task, until a message arrives.
    ///
    /// A server that has just handled a message lets the process it woke
    /// (its caller, typically) run on this worker before it looks again and
    /// goes dormant: in its place, by a hand-off, if it can (the caller sends
    /// its next request and parks, and the server finds it without having
    /// suspended), else by lingering a turn. A caller making call after call
    /// so finds its server still running, and no call pays for a new task.
    /// Either is a single job of the worker's, so an idle server still holds
    /// no task. A server waiting with a timeout of its own does neither (see
    /// ``MessageHandler/waitsWithTimeout``).
    @inline(__always)
    func serve<Handler: MessageHandler>(_ handler: Handler) async throws -> Turn {
        var mayLinger = false
        while true {
            if let envelope = try takeOldest() {
                try await handler.handle(envelope)
                mayLinger = true
                if spendReceiveBudget() { await endSlice() }
            } else if mayLinger {
                // Let the process it answered run on this worker, then look
                // again: in its place (see `Worker.handOff()`: that one has
                // suspended, perhaps after sending the next request), or by
                // lingering a turn; neither with a timeout of its own armed.
                mayLinger = false
                if !handler.waitsWithTimeout && !Worker.handOff() && Scheduler.mayLinger { await Scheduler.linger() }
            } else {
                saved = MessageBuffer()  // empty: release its buffer while dormant
                if withState({ $0.becomeDormant(handler) }) { return .dormant }
            }
        }
    }

    /// Takes the oldest message, set aside or arrived, without waiting; nil
    /// if there is none. Throws the exit reason if there is none and the
    /// process is dead. A server's non-selective receive, done synchronously.
    func takeOldest() throws -> Envelope? {
        if saved.isEmpty && !takeArrivals() {
            if !isAlive { throw exitError() }
            return nil
        }
        let message = saved.removeFirst()
        savedCount.store(saved.count, ordering: .relaxed)
        return message
    }
}
