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

/// The node-wide tables: scheduler, live processes, registered names.
final class Runtime: Sendable {
    static let shared = Runtime(schedulers: EmberRuntime.configuredSchedulers())

    let scheduler: Scheduler
    private let table = ProcessTable()
    private let nextReference = Atomic<UInt64>(1)
    let names = Mutex<[Atom: ProcessCell]>([:])
    /// The process each running process task belongs to. Retained for ever
    /// (the runtime lives as long as the program) and lent with
    /// ``withOwners(_:)``: its reference count, bumped at each use, would be
    /// a cache line for the cores to pass back and forth at every process's
    /// start and end.
    private let owners = Unmanaged.passRetained(TaskOwners())

    @inline(__always)
    func withOwners<Result>(_ body: (TaskOwners) -> Result) -> Result {
        owners._withUnsafeGuaranteedRef(body)
    }

    private init(schedulers: Int) {
        scheduler = Scheduler(
            workerCount: schedulers, asGlobalExecutor: !Scheduler.useGlobalExecutor,
            hostsProcesses: !Scheduler.useGlobalExecutor)
    }

    func makeReference() -> Reference {
        Reference(value: nextReference.wrappingAdd(1, ordering: .relaxed).oldValue)
    }

    // MARK: Process table

    var processCount: Int { table.count }

    func processes() -> [Pid] { table.all().map(\.pid).sorted() }

    /// The local process with this id and serial, if it is alive.
    func lookup(id: UInt32, serial: UInt32) -> ProcessCell? { table.lookup(id: id, serial: serial) }

    // MARK: Spawning

    /// Creates a process and starts its task. Links and monitors asked for are
    /// in place before the body runs, so no exit can slip between.
    func spawn(
        parent: ProcessCell?, link: Bool, monitor: Bool, origin: SpawnOrigin,
        body: @escaping ProcessBody
    ) -> (Pid, Reference?) {
        spawnCell(parent: parent, link: link, monitor: monitor, origin: origin, entry: .body(body))
    }

    /// Like ``spawn(parent:link:monitor:origin:body:)``, for any kind of
    /// process (servers may leave the process dormant).
    func spawnCell(
        parent: ProcessCell?, link: Bool, monitor: Bool, origin: SpawnOrigin, entry: ProcessEntry
    ) -> (Pid, Reference?) {
        let cell = table.add { id, serial in ProcessCell(id: id, serial: serial, origin: origin) }
        let pid = cell.pid
        var ref: Reference?
        if let parent {
            if link {
                _ = cell.withState { $0.addLink(parent.pid) }
                let parentAlive = parent.withState { $0.addLink(pid) }
                if !parentAlive {
                    // The parent was killed while spawning: the child gets its exit signal.
                    cell.exitSignal(from: parent.pid, reason: parent.exitReasonOrKilled(), kind: .link)
                }
            }
            if monitor {
                let newRef = makeReference()
                _ = cell.withState { $0.addMonitor(newRef, by: parent.pid) }
                parent.withState { $0.startMonitoring(pid, ref: newRef) }
                ref = newRef
            }
        }
        let task: SwiftTaskOfProcess
        if case .body(let body) = entry {
            // The task's closure captures the body rather than the entry: its
            // context, kept as long as the process lives, is 16 bytes smaller.
            task = scheduler.start { await cell.run(.body(body)) }
        } else {
            task = scheduler.start { await cell.run(entry) }
        }
        cell.attach(task)
        return (pid, ref)
    }

    // MARK: Exits

    /// Tells a dead process's relations. Exits that cascade through links are
    /// processed iteratively on this thread rather than recursively.
    func processDidExit(_ cell: ProcessCell, _ departure: Departure<ProcessCell.Waiter>) {
        table.remove(cell)
        if let name = departure.name {
            names.withLock { names in
                if names[name] === cell { names[name] = nil }
            }
        }
        // Most processes have no relations: nothing to propagate.
        if !departure.hasRelations { return }
        if let running = ember_current_propagation() {
            // Already propagating on this thread: queue it for the outer loop.
            Unmanaged<PropagationQueue>.fromOpaque(running).takeUnretainedValue().items.append((cell, departure))
            return
        }
        let queue = PropagationQueue()
        queue.items.append((cell, departure))
        ember_set_current_propagation(Unmanaged.passUnretained(queue).toOpaque())
        while let (cell, departure) = queue.items.popFirst() {
            notifyRelations(of: cell, departure)
        }
        ember_set_current_propagation(nil)
    }

    private func notifyRelations(of cell: ProcessCell, _ departure: Departure<ProcessCell.Waiter>) {
        let pid = cell.pid
        let reason = departure.reason
        for linked in departure.links {
            linked.cell?.exitSignal(from: pid, reason: reason, kind: .link)
        }
        for (ref, watcher) in departure.monitoredBy {
            guard let watcherCell = watcher.cell else { continue }
            let down = DownMessage(ref: ref, pid: pid, reason: reason)
            watcherCell.complete(watcherCell.withState { $0.deliverDown(down) })
        }
        for (ref, target) in departure.monitoring {
            target.cell?.withState { $0.removeMonitor(ref) }
        }
    }
}

/// Exits waiting to be propagated on one thread. Only that thread touches it
/// (it is reachable only through that thread's thread-local slot).
private final class PropagationQueue {
    var items = Deque<(ProcessCell, Departure<ProcessCell.Waiter>)>()
}

/// Settings of the Ember runtime.
///
/// The runtime starts at the first call into it (a spawn, `withProcess`, a
/// lookup). From then on its scheduler is the program's global concurrent
/// executor: every Swift task without an executor of its own runs on the
/// scheduler's threads, beside the processes (see <doc:RuntimeGuarantees>).
public enum EmberRuntime {
    private static let requested = Mutex<Int?>(nil)

    /// Sets the number of scheduler threads. Call it once, before the first
    /// process is spawned; later calls have no effect. Defaults to the
    /// `EMBER_SCHEDULERS` environment variable, else one per core.
    public static func bootstrap(schedulers: Int) {
        requested.withLock { $0 = max(1, schedulers) }
    }

    /// The number of scheduler threads in use.
    public static var schedulerCount: Int { Runtime.shared.scheduler.workers.count }

    static func configuredSchedulers() -> Int {
        if let requested = requested.withLock({ $0 }) { return requested }
        if let text = getenv("EMBER_SCHEDULERS").map({ String(cString: $0) }), let n = Int(text), n > 0 { return n }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}
