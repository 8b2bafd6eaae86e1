import DequeModule

/// How an exit signal was sent: by a linked process that exited, or
/// explicitly with ``Pid/exit(_:)``. The rules differ (DESIGN.md section 3).
enum ExitSignalKind: Sendable {
    case link
    case exit
}

/// Everything a process leaves behind when it exits: the relations that must
/// now be told, the waiter to wake, the task to cancel.
struct Departure<Waiter> {
    let reason: ExitReason
    /// Its links, monitors and name; nil if it had none, as most processes.
    let relations: ProcessRelations?
    /// The call it was making, whose monitor on the server goes with it.
    let call: PendingCall?
    let waiter: Waiter?
    let task: SwiftTaskOfProcess?

    /// Whether anyone is to be told: a link, a monitor either way.
    var hasRelations: Bool {
        call != nil || relations.map { !$0.links.isEmpty || !$0.monitoredBy.isEmpty || !$0.monitoring.isEmpty } == true
    }
    var links: Set<Pid> { relations?.links ?? [] }
    var monitoredBy: SmallMap<Reference, Pid> { relations?.monitoredBy ?? [:] }
    /// The monitors it held, its call's included.
    var monitoring: SmallMap<Reference, Pid> {
        ProcessState<Waiter>.monitoring(relations?.monitoring ?? [:], with: call)
    }
    var name: Atom? { relations?.name }
}

/// The state of one process that other processes can touch: mailbox arrivals,
/// the parked receiver, links, monitors, its name and its life.
///
/// A pure state machine: each transition returns what the caller must do
/// (wake a waiter, notify relations) once the lock around it is released.
/// Generic over the waiter so that its rules are tested synchronously.
struct ProcessState<Waiter> {
    // Stored in an order that leaves no padding (every process keeps one):
    // the small fields fill the tail of `exitReason`.

    /// nil while the process is alive.
    private(set) var exitReason: ExitReason?
    var trapsExits = false
    /// Counts the tasks of a process that goes dormant and wakes up.
    private(set) var taskGeneration: UInt32 = 0
    /// Messages that arrived since the process last looked.
    private(set) var incoming = IncomingQueue()
    /// The parked receiver, if the process is blocked in `receive`.
    private(set) var waiter: Waiter?
    /// The token of the last receive timeout that fired.
    private(set) var firedTimer: UInt64 = 0
    /// Links, monitors, aliases and the name, out of line: most processes have none.
    private var relations = RelationsStorage()
    var task: SwiftTaskOfProcess?
    /// The call this process waits in, if any (see ``PendingCall``).
    private(set) var call: PendingCall?
    /// Set while the process is dormant: alive, with no task, its messages to
    /// be handled by this handler in a task started when one arrives.
    private(set) var dormantHandler: (any MessageHandler)?

    var isAlive: Bool { exitReason == nil }
    var links: Set<Pid> { relations.current.links }
    /// Monitors others hold on this process.
    var monitoredBy: SmallMap<Reference, Pid> { relations.current.monitoredBy }
    /// Monitors this process holds on others.
    var monitoring: SmallMap<Reference, Pid> { relations.current.monitoring }
    var name: Atom? {
        get { relations.current.name }
        set {
            if newValue == nil {
                relations.changeExisting { $0.name = nil }
            } else {
                relations.change { $0.name = newValue }
            }
        }
    }
    var isWaiting: Bool { waiter != nil || dormantHandler != nil }

    /// What became of a delivered message.
    enum Delivery {
        /// Queued in the mailbox.
        case queued
        /// The process is dead: dropped.
        case dropped
        /// Handed straight to the receiver blocked in `receive`: resume it with the message.
        case handed(Waiter, Envelope)
        /// Queued, and the process was dormant: start a task to run its
        /// handler and attach it with this generation.
        case wake(any MessageHandler, generation: UInt32)
    }

    // MARK: Messages

    /// Delivers a message. If the process is blocked in `receive`, the
    /// message is handed straight to it: the waiter is returned (to be resumed
    /// with the message) and nothing is queued. Messages to a dead process
    /// are dropped.
    mutating func deliver<Message: Sendable>(_ message: Message) -> Delivery {
        deliver(Envelope(boxing: message))
    }

    mutating func deliver(_ envelope: consuming Envelope) -> Delivery {
        guard isAlive else { return .dropped }
        if let waiter = takeWaiter() { return .handed(waiter, envelope) }
        incoming.append(envelope)
        if let handler = dormantHandler {
            dormantHandler = nil
            taskGeneration &+= 1
            return .wake(handler, generation: taskGeneration)
        }
        return .queued
    }

    /// Puts the process to sleep with no task until a message arrives for
    /// `handler`. Refused (false) if a message is already waiting.
    mutating func becomeDormant(_ handler: any MessageHandler) -> Bool {
        guard isAlive, incoming.isEmpty else { return false }
        // Drop the buffer an empty mailbox may still hold, and the table its
        // callers' monitors used (see removeCallMonitor): idle processes are many.
        incoming.removeAll()
        relations.releaseIfEmpty()
        dormantHandler = handler
        task = nil
        taskGeneration &+= 1
        return true
    }

    /// Records the Swift task started for task generation `generation` (0 for
    /// the first task), so that an exit can cancel it. Returns false if the
    /// process is dead (cancel the task). A task that already finished its
    /// turn (the generation moved on) is not recorded.
    mutating func attach(_ newTask: SwiftTaskOfProcess, generation: UInt32) -> Bool {
        guard isAlive else { return false }
        if generation == taskGeneration { task = newTask }
        return true
    }

    /// Takes the oldest of the messages that arrived since the last call (a
    /// segment of them: see ``IncomingQueue``), and whether more remain.
    mutating func takeIncoming(
        leaving empty: ContiguousArray<Envelope> = []
    ) -> (messages: ContiguousArray<Envelope>, more: Bool)? {
        incoming.takeOldest(leaving: empty)
    }

    /// Takes every arrived message, oldest first (for a flush).
    mutating func takeAllIncoming() -> ContiguousArray<Envelope> {
        incoming.takeAll()
    }

    /// Removes arrived messages that satisfy `predicate` (used by demonitor's flush).
    mutating func removeIncoming(where predicate: (any Sendable) -> Bool) {
        incoming.removeAll(where: predicate)
    }

    var incomingCount: Int { incoming.count }

    enum WaitOutcome {
        /// The receiver is registered; it will be resumed later.
        case waiting
        /// Messages had arrived: here they are (the oldest segment, and
        /// whether more remain), nothing was registered.
        case arrived(ContiguousArray<Envelope>, more: Bool)
        /// The receive's timeout already fired.
        case timedOut
        /// The process is dead.
        case dead
    }

    /// Registers the receiver as waiting, unless there is no need to: messages
    /// arrived, the timeout with `token` already fired, or the process is dead.
    mutating func wait(_ waiter: Waiter, token: UInt64) -> WaitOutcome {
        guard isAlive else { return .dead }
        if let arrived = takeIncoming() { return .arrived(arrived.messages, more: arrived.more) }
        if token != 0 && firedTimer == token { return .timedOut }
        self.waiter = waiter
        return .waiting
    }

    /// A receive timeout fired. Returns the waiter to wake, if it is still waiting.
    mutating func timerFired(token: UInt64) -> Waiter? {
        firedTimer = token
        return takeWaiter()
    }

    private mutating func takeWaiter() -> Waiter? {
        defer { waiter = nil }
        return waiter
    }

    // MARK: Exit signals

    enum SignalOutcome {
        /// Nothing happens (dropped or ignored).
        case ignored
        /// The signal became an ``ExitMessage``, delivered as `Delivery` says.
        case delivered(Delivery)
        /// The process exits.
        case exited(Departure<Waiter>)
    }

    /// Applies an exit signal with the rules of DESIGN.md section 3.
    mutating func receiveExitSignal(from sender: Pid, reason: ExitReason, kind: ExitSignalKind, me: Pid) -> SignalOutcome {
        guard isAlive else { return .ignored }
        switch kind {
        case .link:
            // A link signal is only honoured while the link exists: signals in
            // flight when `unlink` was called are dropped.
            guard relations.changeExisting({ $0.removeLink(sender) }) == true else { return .ignored }
            if trapsExits {
                return .delivered(deliver(ExitMessage(from: sender, reason: reason)))
            }
            if reason == .normal { return .ignored }
            return .exited(exit(reason)!)
        case .exit:
            if reason == .kill { return .exited(exit(.killed)!) }
            if sender == me && reason == .normal { return .exited(exit(.normal)!) }
            if trapsExits {
                return .delivered(deliver(ExitMessage(from: sender, reason: reason)))
            }
            if reason == .normal { return .ignored }
            return .exited(exit(reason)!)
        }
    }

    /// Ends the process. Returns what must be done, or nil if it had already exited.
    mutating func exit(_ reason: ExitReason) -> Departure<Waiter>? {
        guard isAlive else { return nil }
        exitReason = reason
        let departure = Departure(
            reason: reason, relations: relations.takeAll(), call: call, waiter: takeWaiter(), task: task)
        task = nil
        call = nil
        dormantHandler = nil
        incoming.removeAll()
        return departure
    }

    // MARK: Aliases

    mutating func activateAlias(_ ref: Reference) {
        if isAlive { relations.change { _ = $0.aliases.insert(ref) } }
    }

    mutating func deactivateAlias(_ ref: Reference) {
        relations.changeExisting { _ = $0.removeAlias(ref) }
    }

    /// Delivers the reply to call `ref`, once, and only while the caller still
    /// waits for it.
    mutating func deliverReply(_ ref: Reference, _ message: consuming Envelope) -> Delivery {
        if call?.isFor(ref) == true {
            guard call?.replied == false else { return .dropped }
            call?.replied = true
            return deliver(message)
        }
        guard relations.changeExisting({ $0.removeAlias(ref) }) == true else { return .dropped }
        return deliver(message)
    }

    // MARK: Calls

    /// Starts call `ref` to `server`. Returns false if the process is dead.
    mutating func beginCall(_ ref: Reference, server: ProcessCell) -> Bool {
        guard isAlive else { return false }
        call = PendingCall(ref: ref, server: server)
        return true
    }

    /// Ends call `ref`, if it is the one in progress, and returns what became of it.
    mutating func endCall(_ ref: Reference) -> PendingCall? {
        guard call?.isFor(ref) == true else { return nil }
        defer { call = nil }
        return call
    }

    // MARK: Links and monitors

    /// Adds a link. Returns false if the process is dead.
    mutating func addLink(_ pid: Pid) -> Bool {
        guard isAlive else { return false }
        relations.change { _ = $0.links.insert(pid) }
        return true
    }

    mutating func removeLink(_ pid: Pid) {
        relations.changeExisting { _ = $0.removeLink(pid) }
    }

    /// Records that `watcher` monitors this process. Returns false if dead.
    mutating func addMonitor(_ ref: Reference, by watcher: Pid) -> Bool {
        guard isAlive else { return false }
        relations.change { $0.monitoredBy[ref] = watcher }
        return true
    }

    mutating func removeMonitor(_ ref: Reference) {
        relations.changeExisting { $0.removeMonitor(ref) }
    }

    /// Takes a call: monitors the process for the caller (with the call's
    /// reference `ref`) and delivers the request, under one lock. Nil, with
    /// neither done, if the process is dead. A caller no longer alive (killed
    /// as it called) gets neither: what a dead process sends goes nowhere,
    /// and its exit, already under way, would not remove a monitor added now.
    mutating func acceptCall(
        _ request: consuming Envelope, ref: Reference, from caller: Pid, callerAlive: Bool
    ) -> Delivery? {
        guard isAlive else { return nil }
        guard callerAlive else { return .dropped }
        _ = addMonitor(ref, by: caller)
        return deliver(request)
    }

    /// Removes the monitor of a call that has ended. An active server keeps
    /// the table's storage for the next call, so a server called again and
    /// again allocates nothing; a dormant one lets it go, as it does when it
    /// becomes dormant.
    mutating func removeCallMonitor(_ ref: Reference) {
        guard dormantHandler == nil else { return removeMonitor(ref) }
        relations.changeKeepingStorage { $0.monitoredBy[ref] = nil }
    }

    /// The monitors this process holds, its call's included.
    var allMonitoring: SmallMap<Reference, Pid> { Self.monitoring(monitoring, with: call) }

    static func monitoring(_ monitoring: SmallMap<Reference, Pid>, with call: PendingCall?) -> SmallMap<Reference, Pid> {
        guard let call else { return monitoring }
        var all = monitoring
        all[call.ref] = call.server
        return all
    }

    /// Records a monitor this process holds on `target`.
    mutating func startMonitoring(_ target: Pid, ref: Reference) {
        if isAlive { relations.change { $0.monitoring[ref] = target } }
    }

    /// Forgets a monitor this process holds. Returns its target, if it was held.
    mutating func stopMonitoring(_ ref: Reference) -> Pid? {
        relations.changeExisting { $0.stopMonitoring(ref) } ?? nil
    }

    /// Delivers the DOWN message of a monitor this process holds; dropped if
    /// the monitor was removed meanwhile (a demonitor wins over a DOWN in flight).
    mutating func deliverDown(_ down: DownMessage) -> Delivery {
        if call?.isFor(down.ref) == true {
            guard call?.downDelivered == false else { return .dropped }
            call?.downDelivered = true
            return deliver(down)
        }
        guard stopMonitoring(down.ref) != nil else { return .dropped }
        return deliver(down)
    }
}

/// The call a process waits in (see ``Calls``). Its reference is at once the
/// call's alias and the reference of the caller's monitor on the server, held
/// here rather than in the `aliases` and `monitoring` tables, so that a call
/// costs the caller no table entries. A call blocks its process: there is at
/// most one.
///
/// Every process carries the slot, so it is kept small (24 bytes): the
/// reference is stored field by field (a `Reference` is padded to 16 bytes),
/// and a called server is always local, so its cell stands for its pid.
struct PendingCall {
    private let refValue: UInt64
    private let serverCell: ProcessCell
    private let refNode: UInt32
    /// The reply was delivered: another one is dropped.
    var replied = false
    /// The server's DOWN was delivered: the monitor has fired.
    var downDelivered = false

    init(ref: Reference, server: ProcessCell) {
        refValue = ref.value
        refNode = ref.node
        serverCell = server
    }

    var ref: Reference { Reference(node: refNode, value: refValue) }
    var server: Pid { serverCell.pid }

    func isFor(_ ref: Reference) -> Bool { ref.value == refValue && ref.node == refNode }
}
