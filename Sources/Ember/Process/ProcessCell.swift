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

/// How one task of a process ended.
enum Turn: Sendable {
    /// The process is finished: it exits `normal`.
    case finished
    /// The process waits, with no task, for its next message.
    case dormant
}

/// What a dormant process does with its messages: GenServer, Agent and the
/// supervisors run on one, so an idle one holds no suspended Swift task.
protocol MessageHandler: AnyObject, Sendable {
    /// Handles one message, inside the process. Throw to exit.
    func handle(_ message: any Sendable) async throws

    /// Handles the messages of `process` until it goes dormant, with
    /// ``ProcessCell/serve(_:)``. A handler of a concrete class implements it
    /// as `try await process.serve(self)`: the loop is then inlined with the
    /// handler's own type, so each message is handed over by a direct call
    /// rather than through the protocol (which costs an executor check on return).
    func serve(in process: ProcessCell) async throws -> Turn
}

extension MessageHandler {
    func serve(in process: ProcessCell) async throws -> Turn {
        try await process.serve(self)
    }
}

/// Where and by whom a process was started, for crash reports.
struct SpawnOrigin: Sendable {
    /// What the process is, for its crash report.
    enum Kind: Sendable {
        case process
        /// A task (``Tasks``): reported as Elixir reports a `Task`.
        case task
    }

    let parent: Pid?
    let file: StaticString
    let line: UInt
    let function: String
    var kind: Kind = .process
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

    /// The process's own task, kept only to compare identities. Written once
    /// by that task before the body runs; read only by tasks created after
    /// that (they inherited `bound`), so the write happens-before every read.
    @exclusivity(unchecked) private var owner: UInt = 0

    /// Sends and receives between two voluntary yields (the BEAM counts
    /// reductions). A send cannot suspend, so the yield happens at the next
    /// receive once the budget is spent.
    static let budgetPerSlice = 200

    let id: UInt32
    let serial: UInt32
    let origin: SpawnOrigin
    let state = Mutex(ProcessState<Waiter>())
    /// Mirrors `state.isAlive` for lock-free reads.
    private let alive = Atomic<Bool>(true)

    /// Messages the process has taken from `state.incoming` and not yet consumed.
    // Exclusivity is not checked dynamically on the process-private fields:
    // only the process's own task touches them (see the storage rules).
    @exclusivity(unchecked) var saved = MessageBuffer()
    /// `saved.count`, published for ``Pid/info()`` calls from other processes.
    private let savedCount = Atomic<Int>(0)
    @exclusivity(unchecked) private var receiveCounter: UInt64 = 0
    @exclusivity(unchecked) private var budget = ProcessCell.budgetPerSlice

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
    private func depart(_ departure: Departure<Waiter>) {
        alive.store(false, ordering: .releasing)
        Runtime.shared.processDidExit(self, departure)
        departure.waiter?.resume(returning: .exited)
        departure.task?.cancel()
    }

    /// Records the process's task; cancels it at once if the process already
    /// died (it can be killed before its task exists).
    func attach(_ task: Swift.Task<Void, Never>, generation: UInt32 = 0) {
        if !state.withLock({ $0.attach(task, generation: generation) }) { task.cancel() }
    }

    /// Starts a task to handle the messages of a dormant process.
    private func wake(_ handler: any MessageHandler, generation: UInt32) {
        let task = Runtime.shared.scheduler.startWoken { [self] in
            await self.run { try await handler.serve(in: self) }
        }
        attach(task, generation: generation)
    }

    // MARK: The process's own side

    /// The body of the process's task.
    /// Runs one task of the process: `body` as the process, then its exit —
    /// unless the body left the process dormant, waiting for messages.
    func run(_ body: @escaping @Sendable () async throws -> Turn) async {
        var reason = ExitReason.normal
        var crash: (any Error)?
        do {
            // Killed before it ever ran: the body does not start.
            guard isAlive else { throw ExitReason.killed }
            owner = taskIdentity()
            let turn = try await ProcessCell.$bound.withValue(self, operation: body)
            // What runs after the body, in the same job, is not the process.
            ember_set_current_process(nil)
            if turn == .dormant { return }
        } catch let exit as ExitReason {
            reason = exit
        } catch {
            reason = .error(error)
            crash = error
        }
        ember_set_current_process(nil)
        saved = MessageBuffer()
        if let departure = state.withLock({ $0.exit(reason) }) {
            if let crash { CrashReport.log(process: self, error: crash) }
            depart(departure)
        }
    }

    /// Handles messages with `handler` until none is waiting, then leaves the
    /// process dormant: alive, with no Swift task, until a message arrives.
    ///
    /// A server that has just handled a message lingers first: it lets the
    /// process it woke (its caller, typically) run on this worker, and looks
    /// again before going dormant. A caller making call after call so finds
    /// its server still running, and no call pays for a new task. Lingering
    /// is a single turn of the worker, so an idle server still holds no task.
    @inline(__always)
    func serve<Handler: MessageHandler>(_ handler: Handler) async throws -> Turn {
        var mayLinger = false
        while true {
            if let message = try takeOldest() {
                try await handler.handle(message)
                mayLinger = true
                await yieldIfBudgetSpent()
            } else if mayLinger && Scheduler.mayLinger {
                mayLinger = false
                await Scheduler.linger()
            } else {
                saved = MessageBuffer()  // empty: release its buffer while dormant
                if state.withLock({ $0.becomeDormant(handler) }) { return .dormant }
            }
        }
    }

    /// Takes the oldest message, set aside or arrived, without waiting; nil
    /// if there is none. Throws the exit reason if there is none and the
    /// process is dead. A server's non-selective receive, done synchronously.
    private func takeOldest() throws -> (any Sendable)? {
        if saved.isEmpty && !takeArrivals() {
            if !isAlive { throw exitReasonOrKilled() }
            return nil
        }
        let message = saved.removeFirst()
        savedCount.store(saved.count, ordering: .relaxed)
        return message
    }

    /// Counts a handled message against the budget, as a receive does, and
    /// yields once it is spent if others wait.
    private func yieldIfBudgetSpent() async {
        budget -= 1
        guard budget <= 0 else { return }
        budget = Self.budgetPerSlice
        if Scheduler.othersAreWaiting { await Scheduler.yield() }
    }

    /// Selective receive: consumes the first message, oldest first, that
    /// `match` accepts, leaving the others in order. Returns false when
    /// `timeout` passes first. Throws the exit reason if the process is dead.
    ///
    /// Not generic, so the hot path needs no runtime type metadata: the typed
    /// front ends (`receive(_:)` and friends) are inlined into the caller.
    /// `wanted` is the type `match` casts to: messages that cannot be cast to
    /// it are passed over without calling `match` (see ``CastFilter``).
    @usableFromInline
    func receive(
        timeout: Timeout, accepting wanted: any Any.Type, _ match: (any Sendable) throws -> Bool
    ) async throws -> Bool {
        budget -= 1
        if budget <= 0 {
            budget = Self.budgetPerSlice
            // Yielding only matters if someone waits for this worker.
            if Scheduler.othersAreWaiting { await Scheduler.yield() }
        }
        var timer: Timer?
        defer { timer?.cancel() }
        var token: UInt64 = 0
        var scanned = 0
        var filter = CastFilter(wanted: wanted)
        while true {
            let found = try saved.firstPosition(from: scanned, filter: &filter, where: match)
            if let found {
                saved.remove(at: found)
                savedCount.store(saved.count, ordering: .relaxed)
                return true
            }
            scanned = saved.count
            if takeArrivals() { continue }
            if !isAlive { throw exitReasonOrKilled() }
            var wake: Wake
            if let nanoseconds = timeout.nanoseconds {
                if nanoseconds == 0 { return false }
                if timer == nil {
                    receiveCounter &+= 1
                    token = receiveCounter
                    timer = Runtime.shared.scheduler.timers.schedule(after: nanoseconds, target: self, token: token)
                }
                wake = await suspend(token: token)
            } else {
                wake = await suspend(token: 0)
            }
            switch wake {
            case .message(let envelope): saved.append(envelope)
            case .messages(let envelopes): saved.append(contentsOf: envelopes)
            case .timeout: return false
            case .exited: throw exitReasonOrKilled()
            }
            savedCount.store(saved.count, ordering: .relaxed)
        }
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
