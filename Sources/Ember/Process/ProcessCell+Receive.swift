import CEmberShims
import Synchronization

// The receiving side of a process's mailbox: selective receive, the
// synchronous look before it parks, and what wakes it. Only the process's
// own task calls these, but for `register(_:token:)`, which the parking
// executor calls as the task parks, and `resume(_:_:)`, which its wakers
// call (see the storage rules on ``ProcessCell``).

/// Where a receive's search through the mailbox stands, during one of its
/// synchronous steps. Across a wait only `scanned` is kept (in the cell:
/// see ``ProcessCell/receiveScanned``); the rest is the receive's own.
struct MailboxSearch {
    var filter: CastFilter
    /// The receive may hand off before it waits (see `Worker.handOff()`).
    /// Not one with a timeout: it must be able to time out on another worker
    /// while the process it woke runs long. Nor one on an actor, which would
    /// stay busy meanwhile.
    let mayHandOff: Bool
    /// Saved messages already scanned: a wake-up scans only what it brought.
    var scanned: Int

    init(accepting wanted: any Any.Type, mayHandOff: Bool, scanned: Int) {
        self.filter = CastFilter(wanted: wanted)
        self.mayHandOff = mayHandOff
        self.scanned = scanned
    }
}

/// What came of a receiver's wake-up.
@usableFromInline
enum WakeOutcome {
    /// The message handed over was the match, and is consumed.
    case matched
    case timedOut
    /// What arrived is in the mailbox, to be looked at.
    case saved
}

/// What came of a receive's synchronous look.
@usableFromInline
enum ArrivedReceive {
    /// A message was taken.
    case taken
    /// None was: wait in this process, the current one, past the `scanned`
    /// saved messages already offered to the matcher. Unretained: a
    /// process's task keeps its cell (its closure holds it) until it ends;
    /// use it only in the task that got it.
    case mustWait(Unmanaged<ProcessCell>, scanned: Int)
}

/// What a receive does next.
@usableFromInline
enum ReceiveStep {
    case matched
    case timedOut
    /// Hop to the ``ParkingLot`` at once: the parking note is written.
    /// The process waits for a message, its timeout or its exit.
    case park
}

extension ProcessCell {
    /// Selective receive: consumes the first message, oldest first, that
    /// `match` accepts, leaving the others in order. Returns false when
    /// `timeout` passes first. Throws the exit reason if the process is dead.
    ///
    /// Not generic, so the hot path needs no runtime type metadata: the typed
    /// front ends (`receive(_:)` and friends) are inlined into the caller.
    /// `wanted` is the type `match` casts to: messages that cannot be cast to
    /// it are passed over without calling `match` (see ``CastFilter``).
    ///
    /// `scanned` saved messages were offered to `match` already (by
    /// ``receiveArrived(accepting:handingOff:scanned:_:)``): the search
    /// starts after them, so each message meets the matcher once per receive.
    ///
    /// Inlined into its callers, with the hop to the ``ParkingLot`` that
    /// parks: an async function of its own would cost every receive that
    /// waits a frame allocated and freed (a `malloc` and a `free`, as task
    /// frames are sized: see the shims). The work between suspensions is in
    /// synchronous functions that are not inlined; what the wait must keep
    /// is the caller's arguments, how far the search went (in the cell:
    /// ``receiveScanned``) and the armed timeout (``armedTimer``), so the
    /// caller's frame grows by little more than `match`.
    @inlinable @inline(__always)
    func receive(
        timeout: Timeout, accepting wanted: any Any.Type, scanned: Int, _ match: (Envelope) throws -> Bool
    ) async throws -> Bool {
        if spendReceiveBudget() { await endSlice() }
        // Decided here, where `#isolation` is the caller's (in a synchronous
        // function it would be nil).
        let handingOff = Self.mayHandOff(waiting: timeout)
        startWaiting(scanned: scanned)
        defer { endWaiting() }
        while true {
            switch try look(accepting: wanted, timeout: timeout, handingOff: handingOff, match) {
            case .matched: return true
            case .timedOut: return false
            case .park:
                await ParkingLot.shared.park()
                switch try takeWake(accepting: wanted, match) {
                case .matched: return true
                case .timedOut: return false
                case .saved: continue
                }
            }
        }
    }

    /// Starts a receive that may wait, past the `scanned` saved messages
    /// offered to its matcher already.
    @usableFromInline
    func startWaiting(scanned: Int) {
        receiveScanned = min(scanned, saved.count)
    }

    /// Ends a receive that may have waited: its timeout, if one was armed,
    /// is disarmed.
    @usableFromInline
    func endWaiting() {
        disarmTimer()
        receiveScanned = 0
    }

    /// Yields, the slice spent (see ``spendReceiveBudget()``): lingers if
    /// the mailbox is empty and nobody is delayed, else goes to the back of
    /// the queue. Not inlined: a receive that waits, or a server's loop,
    /// keeps no frame for it.
    @usableFromInline @inline(never)
    func endSlice() async {
        await Scheduler.endSlice(mailboxEmpty: mailboxIsEmpty)
    }

    /// The receive of a message that is already here, or that a hand-off
    /// brings (if `handingOff`: see `Worker.handOff()`), without suspending:
    /// true if `match` took one. False leaves it to
    /// ``receive(timeout:accepting:scanned:_:)``, also when the process's
    /// budget is spent (that one yields); `scanned` then says how many saved
    /// messages `match` was offered. The typed front ends call it before any
    /// async call: a receive that need not wait allocates no frame.
    @usableFromInline
    func receiveArrived(
        accepting wanted: any Any.Type, handingOff: Bool, scanned: inout Int, _ match: (Envelope) throws -> Bool
    ) throws -> Bool {
        scanned = 0
        let empty = mailboxIsEmpty
        guard budget > 1, handingOff || !empty, isAlive else { return false }
        // The oldest message first, before the search is even set up.
        var offered = 0
        if !empty, !saved.isEmpty || takeArrivals(), let taken = try consumeOldest(wanted, match) {
            if taken {
                budget -= 1
                return true
            }
            offered = 1
        }
        var search = MailboxSearch(accepting: wanted, mayHandOff: handingOff, scanned: offered)
        repeat {
            if try consumeFirst(&search, match) {
                budget -= 1
                return true
            }
            // Killed during a hand-off: the receive that follows throws.
        } while search.mayHandOff && isAlive && Worker.handOff()
        scanned = search.scanned
        return false
    }

    /// ``receiveArrived(accepting:handingOff:scanned:_:)`` in the current
    /// process, lent without a retain: `.taken`, or the process to wait in.
    /// Throws ``ProcessError/notInProcess(_:)``, naming `function`, outside
    /// a process.
    @usableFromInline
    static func receiveArrived(
        _ function: String, accepting wanted: any Any.Type, handingOff: Bool, _ match: (Envelope) throws -> Bool
    ) throws -> ArrivedReceive {
        let outcome = try withCurrent { cell -> ArrivedReceive in
            var scanned = 0
            return try cell.receiveArrived(accepting: wanted, handingOff: handingOff, scanned: &scanned, match)
                ? .taken : .mustWait(Unmanaged.passUnretained(cell), scanned: scanned)
        }
        guard let outcome else { throw ProcessError.notInProcess(function) }
        return outcome
    }

    /// No message waits, whether or not the process has looked at it (a hint:
    /// one may be arriving).
    var mailboxIsEmpty: Bool { saved.isEmpty && !arrivalsMayWait.load(ordering: .relaxed) }

    /// Counts a receive (or a message a server handles) against the budget.
    /// True when the slice is spent and someone waits for this worker: the
    /// process yields first.
    @usableFromInline
    func spendReceiveBudget() -> Bool {
        budget -= 1
        guard budget <= 0 else { return false }
        budget = Self.budgetPerSlice
        return Scheduler.othersAreWaiting
    }

    /// Looks for a message `match` takes among the saved messages past the
    /// ``receiveScanned`` ones, then among the arrived ones; if there is
    /// none, hands off (if `handingOff`: see `Worker.handOff()`) and looks
    /// again, or arms the timeout (at the first wait) and notes the park
    /// (see ``ParkingLot``) until a message, `timeout` or its exit.
    @usableFromInline @inline(never)
    func look(
        accepting wanted: any Any.Type, timeout: Timeout, handingOff: Bool, _ match: (Envelope) throws -> Bool
    ) throws -> ReceiveStep {
        var search = MailboxSearch(accepting: wanted, mayHandOff: handingOff, scanned: receiveScanned)
        defer { receiveScanned = search.scanned }
        repeat {
            if try consumeFirst(&search, match) { return .matched }
            // Had the process been killed during a hand-off, what arrived
            // meanwhile is gone: this throws.
            if !isAlive { throw exitError() }
        } while search.mayHandOff && Worker.handOff()
        var token: UInt64 = 0
        if let nanoseconds = timeout.nanoseconds {
            if nanoseconds == 0 { return .timedOut }
            if let armed = armedToken {
                token = armed
            } else {
                token = armTimer()
                Runtime.shared.scheduler.timers.schedule(after: nanoseconds, target: self, token: token)
            }
        }
        parkedAwayFromItsExecutor = ParkingLot.currentTaskPrefersAnotherExecutor
        ember_park_receive(Unmanaged.passUnretained(self).toOpaque(), token)
        return .park
    }

    /// Consumes the oldest saved message if it was sent as exactly `wanted`
    /// and `match` takes it: true if taken, false if refused, nil if not
    /// offered (none saved, or of another type).
    @inline(__always)
    private func consumeOldest(_ wanted: any Any.Type, _ match: (Envelope) throws -> Bool) throws -> Bool? {
        guard let taken = try offerOldest(wanted, match) else { return nil }
        if taken {
            saved.remove(at: 0)
            savedCount.store(saved.count, ordering: .relaxed)
        }
        return taken
    }

    /// The oldest saved message offered to `match` (see
    /// ``MessageBuffer/oldest(ofType:isAcceptedBy:)``), marked as matching.
    /// Apart from ``firstPosition(_:_:)``, not through one closure-taking
    /// helper: that one cost each receive ~50 instructions more.
    @inline(__always)
    private func offerOldest(_ wanted: any Any.Type, _ match: (Envelope) throws -> Bool) throws -> Bool? {
        isMatching = true
        defer { isMatching = false }
        return try saved.oldest(ofType: wanted, isAcceptedBy: match)
    }

    /// Consumes the first message `match` accepts among the saved messages
    /// not yet scanned, then among new arrivals. False if none; `search`
    /// then covers every message looked at.
    ///
    /// Most receives take the oldest message, sent as the type they want:
    /// before any other is scanned, that one is offered on its own, without
    /// the search.
    func consumeFirst(_ search: inout MailboxSearch, _ match: (Envelope) throws -> Bool) throws -> Bool {
        repeat {
            if search.scanned == 0, let taken = try consumeOldest(search.filter.wantedType, match) {
                if taken { return true }
                search.scanned = 1
            }
            if search.scanned < saved.count, let found = try firstPosition(&search, match) {
                saved.remove(at: found)
                savedCount.store(saved.count, ordering: .relaxed)
                return true
            }
            search.scanned = saved.count
        } while takeArrivals()
        return false
    }

    /// The position of the first saved message from `search.scanned` on that
    /// `match` takes, marked as matching.
    @inline(__always)
    private func firstPosition(_ search: inout MailboxSearch, _ match: (Envelope) throws -> Bool) throws -> Int? {
        isMatching = true
        defer { isMatching = false }
        return try saved.firstPosition(from: search.scanned, filter: &search.filter, where: match)
    }

    /// Takes what woke the receiver. A single message handed over, with no
    /// older one left to scan, is offered to `match` at once: taken, it never
    /// touches the mailbox's buffer (cold, for a process that waited long).
    /// Throws the exit reason if the process died while waiting.
    @inline(__always)
    private func take(
        _ wake: consuming Wake, accepting wanted: any Any.Type, _ match: (Envelope) throws -> Bool
    ) throws -> WakeOutcome {
        // Woken, perhaps on another worker: make the sends that follow find
        // this process at once (see `current`).
        noteRunning()
        switch consume wake {
        case .message(let envelope):
            var filter = CastFilter(wanted: wanted)
            if receiveScanned == saved.count && filter.mayMatch(envelope.type) {
                let accepted: Bool
                do { accepted = try match(envelope) } catch {
                    saved.append(consume envelope)
                    savedCount.store(saved.count, ordering: .relaxed)
                    throw error
                }
                if accepted { return .matched }
                receiveScanned += 1
            }
            saved.append(consume envelope)
        case .messages(let envelopes): saved.append(contentsOf: envelopes)
        case .timeout: return .timedOut
        case .exited: throw exitError()
        }
        savedCount.store(saved.count, ordering: .relaxed)
        return .saved
    }

    /// Notes this process as the one running on this worker (see
    /// `Worker.runningCell`), as it starts or resumes: the sends that follow
    /// find it without a lookup. Called by the process's task only.
    func noteRunning() {
        // Only this process's task calls this, during its body.
        Worker.withCurrent { $0.noteRunning(self, task: taskIdentity()) }
    }

    /// Whether a receive waiting at most `timeout`, made by the caller, may
    /// hand off (see ``MailboxSearch/mayHandOff``): one with no timeout, not
    /// isolated to an actor.
    @usableFromInline
    static func mayHandOff(waiting timeout: Timeout, _ isolation: isolated (any Actor)? = #isolation) -> Bool {
        timeout.nanoseconds == nil && isolation == nil
    }

    /// What woke the process that ``look(accepting:timeout:handingOff:_:)``
    /// parked, taken (see ``take(_:accepting:_:)``).
    @usableFromInline @inline(never)
    func takeWake(accepting wanted: any Any.Type, _ match: (Envelope) throws -> Bool) throws -> WakeOutcome {
        assert(ember_parking_pending() == 0, "the hop to the parking lot did not park")
        // Moved out: left in the cell, a message would stay retained there.
        var woken = Wake.exited
        swap(&woken, &wake)
        return try take(consume woken, accepting: wanted, match)
    }

    /// Registers the parked process's job as its waiter, or resumes it at
    /// once if it need not wait. Called by ``ParkingExecutor`` as the
    /// process's task parks, on its thread.
    func register(_ job: Waiter, token: UInt64) {
        // The job is put on the scheduler exactly once: by whoever takes it
        // out of `state` under the lock, or here if `wait` does not keep it.
        switch withState({ $0.wait(job, token: token) }) {
        case .waiting: break
        case .arrived(let messages, let more):
            // The rest are left for the receive to take in turn.
            if more { arrivalsMayWait.store(true, ordering: .relaxed) }
            resume(job, .messages(consume messages))
        case .timedOut: resume(job, .timeout)
        case .dead: resume(job, .exited)
        }
    }

    /// Resumes the parked process with `job`, its task, for `reason`. The
    /// caller took the job from the process's state (or is registering
    /// it): until the job is on the scheduler, nothing else runs as the
    /// process, so the caller may write its private fields; the
    /// scheduler's queues publish the writes to the thread that runs it.
    func resume(_ job: Waiter, _ reason: consuming Wake) {
        wake = consume reason
        // The woken process usually runs next on this worker, once its waker
        // parks or ends: meanwhile the CPU brings in the lines it reads
        // first, cold in a process that waited long (around a ring of
        // 10,000): its task's job and status, and its cell's running fields
        // (`wake` to `saved`: bytes 192 to 320, whatever the cell's
        // alignment; a test checks the layout).
        ember_prefetch(unsafeBitCast(job, to: UnsafeRawPointer.self), 0, 3)
        ember_prefetch(Unmanaged.passUnretained(self).toOpaque(), 192, 3)
        if parkedAwayFromItsExecutor { ParkingLot.resumeOnItsExecutor(job) } else { Scheduler.resume(job) }
    }

    /// Moves arrived messages behind the ones already set aside: the oldest
    /// segment of them (see ``IncomingQueue``), so that a search goes on
    /// through a backlog one segment at a time. Returns false if nothing had
    /// arrived.
    @discardableResult
    func takeArrivals() -> Bool {
        guard arrivalsMayWait.load(ordering: .acquiring) else { return false }
        arrivalsMayWait.store(false, ordering: .relaxed)
        guard saved.isEmpty else {
            guard let arrived = withState({ $0.takeIncoming() }) else { return false }
            if arrived.more { arrivalsMayWait.store(true, ordering: .relaxed) }
            saved.append(contentsOf: arrived.messages)
            savedCount.store(saved.count, ordering: .relaxed)
            return true
        }
        // Trade buffers: the empty `saved` storage becomes the new `incoming`,
        // so a steady flow of messages allocates nothing.
        let spare = saved.takeEmptyStorage()
        guard let arrived = withState({ $0.takeIncoming(leaving: spare) }) else {
            saved = MessageBuffer(spare)
            return false
        }
        if arrived.more { arrivalsMayWait.store(true, ordering: .relaxed) }
        saved = MessageBuffer(arrived.messages)
        savedCount.store(saved.count, ordering: .relaxed)
        return true
    }

    /// Counts a send against the process's budget. Called only by the process itself.
    func chargeSend() {
        // A spent budget stays spent (0) until the next receive yields and
        // renews it: a process that only sends must not run it past Int32.min.
        if budget > 0 { budget -= 1 }
    }

    /// Messages waiting in the mailbox, whether or not the process has looked at them.
    var messageQueueLength: Int {
        savedCount.load(ordering: .relaxed) + withState { $0.incomingCount }
    }

    func exitReasonOrKilled() -> ExitReason {
        withState { $0.exitReason } ?? .killed
    }

    /// What a receive of this dead process throws: its exit reason. That of
    /// a killed process, the usual one, is boxed as an error once for all;
    /// any other is boxed as it is thrown (a `malloc`).
    func exitError() -> any Error {
        let reason = exitReasonOrKilled()
        return reason == .killed ? Self.killedError : reason
    }

    private static let killedError: any Error = ExitReason.killed

    /// Removes every message, waiting or arrived, and returns them in order.
    /// Throws ``ProcessError/insideMatcher(_:)`` from a receive's matcher.
    func takeAll() throws(ProcessError) -> [any Sendable] {
        guard !isMatching else { throw .insideMatcher("flush") }
        // What has arrived by now, all segments at once: a flush under a
        // flood of messages still ends.
        arrivalsMayWait.store(false, ordering: .relaxed)
        saved.append(contentsOf: withState { $0.takeAllIncoming() })
        defer {
            saved = MessageBuffer()
            savedCount.store(0, ordering: .relaxed)
        }
        return saved.messages
    }

    /// Removes waiting messages that satisfy `predicate`. Not from a
    /// receive's matcher (see `isMatching`): the callers check.
    func removeMessages(where predicate: @Sendable (any Sendable) -> Bool) {
        saved.removeAll(where: predicate)
        savedCount.store(saved.count, ordering: .relaxed)
        withState { $0.removeIncoming(where: predicate) }
    }
}
