import CEmberShims
import DequeModule
import Synchronization

/// Why a suspended receiver was resumed.
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
/// to compare, never dereferenced. On a scheduler thread it is the job the
/// worker is running (a task is its own job); elsewhere it is read from the
/// borrowed `UnsafeCurrentTask` (a single object reference) by a bit cast,
/// which neither retains nor releases the task.
@inline(__always)
func taskIdentity() -> UInt {
    let job = ember_current_job()
    if job != 0 { return UInt(job) }
    return withUnsafeCurrentTask { task in task.map { unsafeBitCast($0, to: UInt.self) } ?? 0 }
}

/// Where a receive stands between its suspensions.
struct MailboxSearch {
    var filter: CastFilter
    /// Saved messages already scanned: a wake-up scans only what it brought.
    var scanned = 0
    /// The receive's timeout, armed at its first wait.
    var timer: Timer?
    /// The timer's token (0: no timeout).
    var token: UInt64 = 0
}

/// What a receive does next.
enum ReceiveStep {
    case matched
    case timedOut
    /// Suspend until a message, the timeout with this token, or an exit.
    case wait(token: UInt64)
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
    func handle(_ message: any Sendable) async throws
}

/// The runtime's side of one process: its state machine behind a lock, and
/// the mailbox part private to the process itself.
///
/// Storage rules:
/// - `state` is shared: any thread may deliver, signal or inspect, under its lock.
/// - `saved`, `receiveCounter` and `budget` belong to the process's own task:
///   only code running as this process touches them (a task runs on one thread
///   at a time, and suspension points order its accesses).
@usableFromInline
final class ProcessCell: @unchecked Sendable, TimerTarget {
    // @unchecked Sendable: see the storage rules above.
    typealias Waiter = UnsafeContinuation<Wake, Never>

    /// The process whose task (or a task created inside it) is running.
    /// Task-locals are inherited by child tasks, so this alone does not say
    /// that the current task *is* the process: see ``current``.
    @TaskLocal static var bound: ProcessCell?

    /// The process the current task runs as: nil outside processes and in
    /// Swift tasks created inside a process (`async let`, task groups,
    /// `Task {}`), which are not the process and must not touch its mailbox.
    ///
    /// On a scheduler thread the answer is kept for the rest of the job: a
    /// job is one run of one task, so it cannot change before the worker
    /// starts the next job, which clears it. The pointer is unretained: the
    /// process's task holds its cell for as long as it runs.
    @usableFromInline
    static var current: ProcessCell? {
        if let cached = ember_current_process() {
            return Unmanaged<ProcessCell>.fromOpaque(cached).takeUnretainedValue()
        }
        guard let cell = bound, taskIdentity() == cell.owner else { return nil }
        if ember_current_job() != 0 { ember_set_current_process(Unmanaged.passUnretained(cell).toOpaque()) }
        return cell
    }

    /// Sends and receives between two voluntary yields (the BEAM counts
    /// reductions). A send cannot suspend, so the yield happens at the next
    /// receive once the budget is spent.
    static let budgetPerSlice: Int32 = 200

    // Stored properties are laid out in declaration order; this one leaves no
    // padding between them (every process keeps a cell).

    let id: UInt32
    let serial: UInt32
    /// The process's own task, kept only to compare identities. Written once
    /// by that task before the body runs; read only by tasks created after
    /// that (they inherited `bound`), so the write happens-before every read.
    @exclusivity(unchecked) private var owner: UInt = 0
    /// Mirrors `state.isAlive` for lock-free reads.
    private let alive = Atomic<Bool>(true)
    // Exclusivity is not checked dynamically on the process-private fields:
    // only the process's own task touches them (see the storage rules).
    @exclusivity(unchecked) private var budget = ProcessCell.budgetPerSlice
    let origin: SpawnOrigin
    let state = Mutex(ProcessState<Waiter>())
    /// Messages the process has taken from `state.incoming` and not yet consumed.
    @exclusivity(unchecked) var saved = MessageBuffer()
    /// `saved.count`, published for ``Pid/info()`` calls from other processes.
    private let savedCount = Atomic<Int>(0)
    @exclusivity(unchecked) private var receiveCounter: UInt64 = 0

    init(id: UInt32, serial: UInt32, origin: SpawnOrigin) {
        self.id = id
        self.serial = serial
        self.origin = origin
    }

    var pid: Pid { Pid(cell: self) }
    var isAlive: Bool { alive.load(ordering: .acquiring) }

    // MARK: Signals from anywhere

    func deliver(_ message: any Sendable) {
        let envelope = Envelope(message)
        complete(state.withLock { $0.deliver(envelope) })
    }

    /// Finishes a delivery outside the lock: resumes the receiver the message
    /// was handed to, or starts the task of a dormant process.
    func complete(_ delivery: ProcessState<Waiter>.Delivery) {
        switch delivery {
        case .queued, .dropped: break
        case .handed(let waiter, let envelope): waiter.resume(returning: .message(envelope))
        case .wake(let handler, let generation): wake(handler, generation: generation)
        }
    }

    func exitSignal(from sender: Pid, reason: ExitReason, kind: ExitSignalKind) {
        let outcome = state.withLock { $0.receiveExitSignal(from: sender, reason: reason, kind: kind, me: pid) }
        switch outcome {
        case .ignored: break
        case .delivered(let delivery): complete(delivery)
        case .exited(let departure): depart(departure)
        }
    }

    /// Ends the process with `reason` unless it already ended. Returns false if it had.
    @discardableResult
    func terminate(_ reason: ExitReason) -> Bool {
        guard let departure = state.withLock({ $0.exit(reason) }) else { return false }
        depart(departure)
        return true
    }

    func timerFired(token: UInt64) {
        let waiter = state.withLock { $0.timerFired(token: token) }
        waiter?.resume(returning: .timeout)
    }

    /// Carries out a departure: the process is dead for everyone from here on.
    /// Its task is cancelled, unless it is the task that is ending here.
    private func depart(_ departure: Departure<Waiter>, cancellingTask: Bool = true) {
        alive.store(false, ordering: .releasing)
        Runtime.shared.processDidExit(self, departure)
        departure.waiter?.resume(returning: .exited)
        if cancellingTask { departure.task?.cancel() }
    }

    /// Records the process's task; cancels it at once if the process already
    /// died (it can be killed before its task exists).
    func attach(_ task: SwiftTaskOfProcess, generation: UInt32 = 0) {
        if !state.withLock({ $0.attach(task, generation: generation) }) { task.cancel() }
    }

    /// Starts a task to handle the messages of a dormant process.
    private func wake(_ handler: any MessageHandler, generation: UInt32) {
        let task = startingTask { Runtime.shared.scheduler.startWoken { [self] in await self.run(.handler(handler)) } }
        attach(task, generation: generation)
    }

    /// Starts a task of this process with `start`, with `bound` set to this
    /// process while it does. A new task inherits the task-local values of
    /// the code that starts it (Swift copies them), so the process's task has
    /// its binding from its first instruction, and needs no `withValue` scope
    /// of its own: that scope cost every process async frames in its slab and
    /// three executor hops when it started.
    func startingTask(_ start: () -> SwiftTaskOfProcess) -> SwiftTaskOfProcess {
        ProcessCell.$bound.withValue(self, operation: start)
    }

    // MARK: The process's own side

    /// The body of the process's task: runs one task of the process, `entry`
    /// as the process, then its exit — unless it left the process dormant,
    /// waiting for messages. The task was started by ``startingTask(_:)``,
    /// so `bound` is this process.
    ///
    /// Its async frame stays small (every waiting process keeps it): the
    /// work before and after the body is in synchronous functions.
    func run(_ entry: ProcessEntry) async {
        let turn: Result<Turn, any Error>
        if isAlive {
            owner = taskIdentity()
            do {
                switch entry {
                case .body(let body):
                    try await body()
                    turn = .success(.finished)
                case .server(let body): turn = .success(try await body())
                case .handler(let handler): turn = .success(try await serve(handler))
                }
            } catch {
                turn = .failure(error)
            }
        } else {
            // Killed before it ever ran: the body does not start.
            turn = .failure(ExitReason.killed)
        }
        endTurn(turn)
    }

    /// After a task's body: the process exits, with the reason the body gave,
    /// unless the body left it dormant.
    @inline(never)
    private func endTurn(_ turn: Result<Turn, any Error>) {
        // What runs after the body, in the same job, is not the process.
        ember_set_current_process(nil)
        let reason: ExitReason
        var crash: (any Error)?
        switch turn {
        case .success(.dormant): return
        case .success(.finished): reason = .normal
        case .failure(let exit as ExitReason): reason = exit
        case .failure(let error):
            reason = .error(error)
            crash = error
        }
        saved = MessageBuffer()
        if let departure = state.withLock({ $0.exit(reason) }) {
            if let crash { CrashReport.log(process: self, error: crash) }
            // The process's task is the one running this, about to end.
            depart(departure, cancellingTask: false)
        }
    }

    /// Handles messages with `handler` until none is waiting, then leaves the
    /// process dormant: alive, with no Swift task, until a message arrives.
    func serve(_ handler: any MessageHandler) async throws -> Turn {
        while true {
            var next: (any Sendable)?
            _ = try await receive(timeout: 0, accepting: (any Sendable).self) { message in
                next = message
                return true
            }
            if let message = next {
                try await handler.handle(message)
            } else {
                saved = MessageBuffer()  // empty: release its buffer while dormant
                if state.withLock({ $0.becomeDormant(handler) }) { return .dormant }
            }
        }
    }

    /// Selective receive: consumes the first message, oldest first, that
    /// `match` accepts, leaving the others in order. Returns false when
    /// `timeout` passes first. Throws the exit reason if the process is dead.
    ///
    /// Not generic, so the hot path needs no runtime type metadata: the typed
    /// front ends (`receive(_:)` and friends) are inlined into the caller.
    /// `wanted` is the type `match` casts to: messages that cannot be cast to
    /// it are passed over without calling `match` (see ``CastFilter``).
    ///
    /// The work between suspensions is in synchronous functions: this async
    /// frame is kept by every waiting process, so it holds only what must
    /// survive a suspension.
    @usableFromInline
    func receive(
        timeout: Timeout, accepting wanted: any Any.Type, _ match: (any Sendable) throws -> Bool
    ) async throws -> Bool {
        if spendReceiveBudget() { await Scheduler.yield() }
        var search = MailboxSearch(filter: CastFilter(wanted: wanted))
        defer { search.timer?.cancel() }
        while true {
            switch try look(&search, timeout: timeout, match) {
            case .matched: return true
            case .timedOut: return false
            case .wait(let token): if try !take(await suspend(token: token)) { return false }
            }
        }
    }

    /// Counts a receive against the budget. True when the slice is spent and
    /// someone waits for this worker: the receive yields first.
    private func spendReceiveBudget() -> Bool {
        budget -= 1
        guard budget <= 0 else { return false }
        budget = Self.budgetPerSlice
        return Scheduler.othersAreWaiting
    }

    /// Looks for a match among the saved messages, then among the arrived
    /// ones; if there is none, arms the timeout and says how to wait.
    @inline(never)
    private func look(
        _ search: inout MailboxSearch, timeout: Timeout, _ match: (any Sendable) throws -> Bool
    ) throws -> ReceiveStep {
        while true {
            if let found = try saved.firstPosition(from: search.scanned, filter: &search.filter, where: match) {
                saved.remove(at: found)
                savedCount.store(saved.count, ordering: .relaxed)
                return .matched
            }
            search.scanned = saved.count
            if takeArrivals() { continue }
            if !isAlive { throw exitReasonOrKilled() }
            guard let nanoseconds = timeout.nanoseconds else { return .wait(token: 0) }
            if nanoseconds == 0 { return .timedOut }
            if search.timer == nil {
                receiveCounter &+= 1
                search.token = receiveCounter
                search.timer = Runtime.shared.scheduler.timers.schedule(
                    after: nanoseconds, target: self, token: search.token)
            }
            return .wait(token: search.token)
        }
    }

    /// Takes what woke the receiver. False if the timeout fired; throws the
    /// exit reason if the process died while waiting.
    @inline(never)
    private func take(_ wake: Wake) throws -> Bool {
        switch wake {
        case .message(let envelope): saved.append(envelope)
        case .messages(let envelopes): saved.append(contentsOf: envelopes)
        case .timeout: return false
        case .exited: throw exitReasonOrKilled()
        }
        savedCount.store(saved.count, ordering: .relaxed)
        return true
    }

    private func suspend(token: UInt64) async -> Wake {
        await withUnsafeContinuation { (continuation: Waiter) in
            // The continuation is resumed exactly once: by whoever takes it out
            // of `state` under the lock, or here if `wait` does not keep it.
            switch state.withLock({ $0.wait(continuation, token: token) }) {
            case .waiting: break
            case .arrived(let messages): continuation.resume(returning: .messages(messages))
            case .timedOut: continuation.resume(returning: .timeout)
            case .dead: continuation.resume(returning: .exited)
            }
        }
    }

    /// Moves arrived messages behind the ones already set aside. Returns false
    /// if nothing had arrived.
    @discardableResult
    private func takeArrivals() -> Bool {
        guard saved.isEmpty else {
            guard let arrived = state.withLock({ $0.takeIncoming() }) else { return false }
            saved.append(contentsOf: arrived)
            savedCount.store(saved.count, ordering: .relaxed)
            return true
        }
        // Trade buffers: the empty `saved` storage becomes the new `incoming`,
        // so a steady flow of messages allocates nothing.
        let spare = saved.takeEmptyStorage()
        guard let arrived = state.withLock({ $0.takeIncoming(leaving: spare) }) else {
            saved = MessageBuffer(spare)
            return false
        }
        saved = MessageBuffer(arrived)
        savedCount.store(saved.count, ordering: .relaxed)
        return true
    }

    /// Counts a send against the process's budget. Called only by the process itself.
    func chargeSend() { budget -= 1 }

    /// Messages waiting in the mailbox, whether or not the process has looked at them.
    var messageQueueLength: Int {
        savedCount.load(ordering: .relaxed) + state.withLock { $0.incomingCount }
    }

    private func exitReasonOrKilled() -> ExitReason {
        state.withLock { $0.exitReason } ?? .killed
    }

    /// Removes every message, waiting or arrived, and returns them in order.
    func takeAll() -> [any Sendable] {
        takeArrivals()
        defer {
            saved = MessageBuffer()
            savedCount.store(0, ordering: .relaxed)
        }
        return saved.messages
    }

    /// Removes waiting messages that satisfy `predicate`.
    func removeMessages(where predicate: @Sendable (any Sendable) -> Bool) {
        saved.removeAll(where: predicate)
        savedCount.store(saved.count, ordering: .relaxed)
        state.withLock { $0.removeIncoming(where: predicate) }
    }
}
