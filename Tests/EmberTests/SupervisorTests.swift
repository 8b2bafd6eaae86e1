import Synchronization
import Testing

@testable import Ember

/// Children that tell the test what happens to them, for the supervisor tests.
enum SupervisionFixture {
    /// What the test process hears. `started` is sent by the supervisor's
    /// process (from the start function) and `stopping` by the child when an
    /// exit signal reaches it, so their order in the test's mailbox is the
    /// order in which things happened.
    enum Event: Sendable, Equatable, CustomStringConvertible {
        case started(String, Pid)
        case stopping(String, ExitReason)

        var description: String {
            switch self {
            case .started(let id, _): "started \(id)"
            case .stopping(let id, let reason): "stopping \(id) \(reason)"
            }
        }
    }

    /// What the test tells a child to do.
    enum Command: Sendable {
        case crash
        case exit(ExitReason)
    }

    /// Counts the calls of a start function.
    final class Attempts: Sendable {
        private let count = Atomic<Int>(0)
        /// Counts one more and returns how many there were so far.
        func next() -> Int { count.add(1, ordering: .relaxed).newValue }
        var total: Int { count.load(ordering: .relaxed) }
    }

    private struct Ready: Sendable { let pid: Pid }
    private enum Incoming { case exit(ExitMessage), command(Command) }

    /// A worker that traps exits and reports them to `observer` before
    /// exiting with their reason (or carries on, if it ignores shutdown).
    /// Its start function returns once the child traps exits, as a real
    /// `startLink` returns once its process is initialised.
    static func worker(
        _ id: String, reportingTo observer: Pid, restart: Supervisor.Restart = .permanent,
        shutdown: Supervisor.Shutdown = .timeout(5_000), ignoresShutdown: Bool = false
    ) -> Supervisor.ChildSpec {
        .worker(id: id, restart: restart, shutdown: shutdown) {
            let supervisor = try Pid.current
            let pid = try spawnLink {
                try trapExits(true)
                send(supervisor, Ready(pid: try Pid.current))
                try await serve(id, observer: observer, ignoresShutdown: ignoresShutdown)
            }
            _ = try await receive { (ready: Ready) in ready.pid == pid ? ready : nil }
            send(observer, Event.started(id, pid))
            return pid
        }
    }

    private static func serve(_ id: String, observer: Pid, ignoresShutdown: Bool) async throws {
        while true {
            let incoming = try await receive { (message: any Sendable) -> Incoming? in
                if let exit = message as? ExitMessage { return .exit(exit) }
                if let command = message as? Command { return .command(command) }
                return nil
            }
            switch incoming {
            case .exit(let exit):
                send(observer, Event.stopping(id, exit.reason))
                if !ignoresShutdown { throw exit.reason }
            case .command(.crash):
                throw RuntimeError("\(id) crashed")
            case .command(.exit(let reason)):
                throw reason
            }
        }
    }

    /// A child whose start function throws.
    static func failing(_ id: String, announcingTo observer: Pid? = nil) -> Supervisor.ChildSpec {
        .worker(id: id) {
            if let observer { send(observer, try Pid.current) }
            throw RuntimeError("\(id) cannot start")
        }
    }

    /// Waits for the supervisor to report that it started `id`; returns the pid.
    static func started(_ id: String) async throws -> Pid {
        let pid = try await receive(after: 10_000) { (event: Event) -> Pid? in
            if case .started(id, let pid) = event { return pid }
            return nil
        }
        return try #require(pid, "\(id) was not started")
    }

    /// The next `count` events, in the order they arrived, as text.
    static func nextEvents(_ count: Int) async throws -> [String] {
        var events: [String] = []
        for _ in 0..<count {
            let event = try await receive(Event.self, after: 10_000)
            events.append(event?.description ?? "nothing")
        }
        return events
    }

    /// The events already in the mailbox, as text.
    static func pendingEvents() async throws -> [String] {
        var events: [String] = []
        while let event = try await receive(Event.self, after: 0) { events.append(event.description) }
        return events
    }

    /// Makes `child` exit through `command` and waits until it has: its
    /// supervisor has the exit message by then (links fire before monitors).
    static func make(_ child: Pid, _ command: Command) async throws -> ExitReason? {
        let ref = try monitor(child)
        send(child, command)
        return try await down(ref)?.reason
    }

    /// The pid of the child `id`.
    static func pid(of id: String, in supervisor: Pid) async throws -> Pid? {
        try await Supervisor.whichChildren(supervisor).first { $0.id == id }?.pid
    }
}

@Suite("Supervisor")
struct SupervisorTests {
    typealias F = SupervisionFixture
    typealias Info = Supervisor.ChildInfo

    init() { _ = CapturedLogs.shared }

    // MARK: Starting

    @Test("startLink starts the children in order and returns once they all run")
    func startsInOrder() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(
                children: ["a", "b", "c"].map { F.worker($0, reportingTo: me) }, strategy: .oneForOne)
            #expect(try await F.pendingEvents() == ["started a", "started b", "started c"])
            let children = try await Supervisor.whichChildren(supervisor)
            #expect(children.map(\.id) == ["a", "b", "c"])
            #expect(children.allSatisfy { $0.pid?.isAlive == true && $0.type == .worker && !$0.isRestarting })
        }
    }

    @Test("startLink outside a process throws notInProcess")
    func startLinkOutsideProcess() async throws {
        await #expect(throws: ProcessError.notInProcess("Supervisor.startLink")) {
            try await Supervisor.startLink(children: [], strategy: .oneForOne)
        }
    }

    @Test("a child failing to start stops the started ones newest first and startLink throws startFailed without signalling the caller")
    func startFailure() async throws {
        try await withProcess {
            try trapExits(true)
            let me = try Pid.current
            let children = [
                F.worker("a", reportingTo: me), F.worker("b", reportingTo: me),
                F.failing("c", announcingTo: me), F.worker("d", reportingTo: me),
            ]
            await #expect(throws: SupervisorError.startFailed(id: "c", reason: .error(RuntimeError("c cannot start")))) {
                try await Supervisor.startLink(children: children, strategy: .oneForOne)
            }
            let supervisor = try await receive(Pid.self)
            _ = try await down(try monitor(supervisor))
            #expect(try await F.pendingEvents() == ["started a", "started b", "stopping b :shutdown", "stopping a :shutdown"])
            #expect(try await exitMessage(from: supervisor, within: 0) == nil)
            #expect(CapturedLogs.shared.messages(for: supervisor).isEmpty)
        }
    }

    @Test("startLink rejects duplicate ids and out-of-range intensity before starting anything")
    func invalidOptions() async throws {
        try await withProcess {
            let me = try Pid.current
            await #expect(throws: SupervisorError.duplicateChildId("a")) {
                try await Supervisor.startLink(
                    children: [F.worker("a", reportingTo: me), F.worker("a", reportingTo: me)], strategy: .oneForOne)
            }
            await #expect(throws: SupervisorError.invalidOption("maxRestarts must be 0 or more, not -1")) {
                try await Supervisor.startLink(children: [], strategy: .oneForOne, maxRestarts: -1)
            }
            await #expect(throws: SupervisorError.invalidOption("maxSeconds must be 1 or more, not 0")) {
                try await Supervisor.startLink(children: [], strategy: .oneForOne, maxSeconds: 0)
            }
            await #expect(throws: SupervisorError.invalidOption(
                "the name :undefined cannot be registered: :undefined cannot be used as a registered name")) {
                try await Supervisor.startLink(children: [F.worker("a", reportingTo: me)], strategy: .oneForOne, name: "undefined")
            }
            #expect(try await F.pendingEvents().isEmpty)
        }
    }

    @Test("a named supervisor is reached by name, and a second one with that name gets alreadyStarted")
    func names() async throws {
        try await withProcess {
            let me = try Pid.current
            let name: ProcessName = "sup_test_named"
            let supervisor = try await Supervisor.startLink(
                children: [F.worker("a", reportingTo: me)], strategy: .oneForOne, name: name)
            #expect(name.whereis() == supervisor)
            #expect(try await Supervisor.whichChildren(name).map(\.id) == ["a"])
            #expect(try await Supervisor.countChildren(name).specs == 1)
            let b = try await Supervisor.startChild(name, F.worker("b", reportingTo: me))
            try await Supervisor.terminateChild(name, id: "b")
            #expect(!b.isAlive)
            #expect(try await Supervisor.restartChild(name, id: "b") != b)
            try await Supervisor.terminateChild(name, id: "b")
            try await Supervisor.deleteChild(name, id: "b")
            await #expect(throws: SupervisorError.alreadyStarted(supervisor)) {
                try await Supervisor.startLink(children: [], strategy: .oneForOne, name: name)
            }
            try await Supervisor.stop(name)
            #expect(!supervisor.isAlive)
            await #expect(throws: CallError.noproc) { try await Supervisor.whichChildren(name) }
        }
    }

    // MARK: Restarts

    @Test("a permanent child is restarted after a crash and after a normal exit", arguments: [
        F.Command.crash, .exit(.normal),
    ])
    func permanentRestarts(command: F.Command) async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(children: [F.worker("a", reportingTo: me)], strategy: .oneForOne)
            let first = try await F.started("a")
            _ = try await F.make(first, command)
            let second = try await F.started("a")
            #expect(second != first)
            #expect(try await Supervisor.whichChildren(supervisor) == [Info(id: "a", pid: second, type: .worker)])
        }
    }

    @Test("a transient child is restarted only after an abnormal exit", arguments: [
        (F.Command.crash, true), (.exit("boom"), true), (.exit(.killed), true),
        (.exit(.normal), false), (.exit(.shutdown), false), (.exit(.shutdown("done")), false),
    ])
    func transientRestarts(command: F.Command, restarted: Bool) async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(
                children: [F.worker("a", reportingTo: me, restart: .transient)], strategy: .oneForOne)
            let first = try await F.started("a")
            _ = try await F.make(first, command)
            let now = try await Supervisor.whichChildren(supervisor)
            #expect(now.count == 1)
            #expect((now.first?.pid != nil) == restarted)
            #expect(now.first?.pid != first)
        }
    }

    @Test("a temporary child is never restarted and its spec is dropped", arguments: [F.Command.crash, .exit(.normal)])
    func temporaryChild(command: F.Command) async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(
                children: [F.worker("a", reportingTo: me, restart: .temporary), F.worker("b", reportingTo: me)],
                strategy: .oneForAll)
            let a = try await F.started("a")
            _ = try await F.started("b")
            _ = try await F.make(a, command)
            #expect(try await Supervisor.whichChildren(supervisor).map(\.id) == ["b"])
            #expect(try await F.pendingEvents().isEmpty)
        }
    }

    @Test("one for one restarts only the child that exited; its siblings keep their pids")
    func oneForOne() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(
                children: ["a", "b", "c"].map { F.worker($0, reportingTo: me) }, strategy: .oneForOne)
            let before = try await Supervisor.whichChildren(supervisor)
            _ = try await F.nextEvents(3)
            _ = try await F.make(try #require(before[1].pid), .crash)
            #expect(try await F.nextEvents(1) == ["started b"])
            let after = try await Supervisor.whichChildren(supervisor)
            #expect(after[0] == before[0] && after[2] == before[2])
            #expect(after[1].pid != before[1].pid && after[1].pid != nil)
        }
    }

    @Test("one for all stops the other children newest first, then starts them all in order")
    func oneForAll() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(
                children: ["a", "b", "c"].map { F.worker($0, reportingTo: me) }, strategy: .oneForAll)
            let before = try await Supervisor.whichChildren(supervisor)
            _ = try await F.nextEvents(3)
            _ = try await F.make(try #require(before[1].pid), .crash)
            #expect(try await F.nextEvents(5) == [
                "stopping c :shutdown", "stopping a :shutdown", "started a", "started b", "started c",
            ])
            let after = try await Supervisor.whichChildren(supervisor)
            #expect(zip(before, after).allSatisfy { $0.pid != $1.pid && $1.pid?.isAlive == true })
        }
    }

    @Test("rest for one stops the children started after the one that exited, newest first, and starts them again in order")
    func restForOne() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(
                children: ["a", "b", "c", "d"].map { F.worker($0, reportingTo: me) }, strategy: .restForOne)
            let before = try await Supervisor.whichChildren(supervisor)
            _ = try await F.nextEvents(4)
            _ = try await F.make(try #require(before[1].pid), .crash)
            #expect(try await F.nextEvents(5) == [
                "stopping d :shutdown", "stopping c :shutdown", "started b", "started c", "started d",
            ])
            let after = try await Supervisor.whichChildren(supervisor)
            #expect(after[0] == before[0])
            #expect(zip(before.dropFirst(), after.dropFirst()).allSatisfy { $0.pid != $1.pid })
        }
    }

    @Test("a restart that fails is retried: the child is restarting meanwhile, and terminateChild ends the retries")
    func failedRestartIsRetried() async throws {
        try await withProcess {
            let starts = F.Attempts()
            let me = try Pid.current
            let flaky = Supervisor.ChildSpec.worker(id: "flaky") {
                guard starts.next() == 1 else { throw RuntimeError("no more") }
                return try spawnLink { _ = try await receive(F.Command.self) ; throw RuntimeError("crashed") }
            }
            let supervisor = try await Supervisor.startLink(
                children: [F.worker("a", reportingTo: me), flaky], strategy: .oneForOne, maxRestarts: 1_000_000)
            let first = try #require(try await F.pid(of: "flaky", in: supervisor))
            _ = try await F.make(first, .crash)
            #expect(try await Supervisor.whichChildren(supervisor).last == Info(id: "flaky", pid: nil, type: .worker, isRestarting: true))
            #expect(try await Supervisor.countChildren(supervisor) == .init(specs: 2, active: 1, supervisors: 0, workers: 2))
            await #expect(throws: SupervisorError.restarting) { try await Supervisor.restartChild(supervisor, id: "flaky") }
            await #expect(throws: SupervisorError.restarting) { try await Supervisor.deleteChild(supervisor, id: "flaky") }
            await #expect(throws: SupervisorError.alreadyPresent) { try await Supervisor.startChild(supervisor, flaky) }
            try await Supervisor.terminateChild(supervisor, id: "flaky")
            #expect(try await Supervisor.whichChildren(supervisor).last == Info(id: "flaky", pid: nil, type: .worker))
            #expect(starts.total > 2)
            #expect(CapturedLogs.shared.messages(for: first).contains { $0.hasPrefix("Child \"flaky\" of Supervisor \(supervisor) terminated") })
        }
    }

    // MARK: Intensity

    @Test("one restart too many within maxSeconds makes the supervisor stop its children and exit shutdown, which its parent sees")
    func intensityEscalates() async throws {
        try await withProcess {
            try trapExits(true)
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(
                children: [F.worker("a", reportingTo: me), F.worker("b", reportingTo: me)], strategy: .oneForOne,
                maxRestarts: 2, maxSeconds: 3600)
            var a = try await F.started("a")
            _ = try await F.started("b")
            for _ in 0..<2 {
                _ = try await F.make(a, .crash)
                a = try await F.started("a")
            }
            _ = try await F.make(a, .crash)
            #expect(try await exitMessage(from: supervisor)?.reason == .shutdown)
            #expect(try await F.pendingEvents() == ["stopping b :shutdown"])
            #expect(CapturedLogs.shared.messages(for: a).contains {
                $0.hasPrefix("Child \"a\" of Supervisor \(supervisor) caused shutdown\n** (exit) :reached_max_restart_intensity")
            })
        }
    }

    @Test("a parent that does not trap exits goes down with its supervisor's shutdown")
    func intensityTakesParentDown() async throws {
        try await withProcess {
            let me = try Pid.current
            let parent = spawn {
                let supervisor = try await Supervisor.startLink(
                    children: [F.worker("a", reportingTo: me)], strategy: .oneForOne, maxRestarts: 0)
                send(me, supervisor)
                _ = try await receive(Atom.self)
            }
            let ref = try monitor(parent)
            let supervisor = try await receive(Pid.self)
            let supervisorRef = try monitor(supervisor)
            _ = try await F.make(try await F.started("a"), .crash)
            #expect(try await down(supervisorRef)?.reason == .shutdown)
            #expect(try await down(ref)?.reason == .shutdown)
        }
    }

    @Test("a supervisor that gives up is restarted by its own supervisor, with fresh children")
    func escalationToGrandparent() async throws {
        try await withProcess {
            let me = try Pid.current
            let inner = Supervisor.ChildSpec.supervisor(id: "inner") {
                try await Supervisor.startLink(children: [F.worker("w", reportingTo: me)], strategy: .oneForOne, maxRestarts: 0)
            }
            let root = try await Supervisor.startLink(children: [inner, F.worker("x", reportingTo: me)], strategy: .oneForOne)
            let innerBefore = try #require(try await F.pid(of: "inner", in: root))
            let w = try await F.started("w")
            let x = try await F.started("x")
            _ = try await F.make(w, .crash)
            #expect(try await F.started("w") != w)
            let innerAfter = try #require(try await F.pid(of: "inner", in: root))
            #expect(innerAfter != innerBefore && !innerBefore.isAlive)
            #expect(try await F.pid(of: "x", in: root) == x)
        }
    }

    // MARK: Shutdown

    @Test("when its parent exits, a supervisor stops its children newest first and exits with the same reason", arguments: [
        ExitReason.normal, "boom",
    ])
    func parentExit(reason: ExitReason) async throws {
        try await withProcess {
            let me = try Pid.current
            let parent = spawn {
                let supervisor = try await Supervisor.startLink(
                    children: ["a", "b", "c"].map { F.worker($0, reportingTo: me) }, strategy: .oneForOne)
                send(me, supervisor)
                throw try await receive(ExitReason.self)
            }
            let supervisor = try await receive(Pid.self)
            let ref = try monitor(supervisor)
            _ = try await F.nextEvents(3)
            send(parent, reason)
            #expect(try await down(ref)?.reason == reason)
            #expect(try await F.pendingEvents() == ["stopping c :shutdown", "stopping b :shutdown", "stopping a :shutdown"])
        }
    }

    @Test("an exit signal from a process other than its parent is ignored")
    func strangerExit() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(children: [F.worker("a", reportingTo: me)], strategy: .oneForOne)
            let stranger = spawn { supervisor.exit(.shutdown) }
            _ = try await down(try monitor(stranger))
            #expect(try await Supervisor.countChildren(supervisor).active == 1)
            #expect(try await F.pendingEvents() == ["started a"])
        }
    }

    @Test("stop stops the children newest first and the supervisor exits with the reason given")
    func stop() async throws {
        try await withProcess {
            try trapExits(true)
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(
                children: ["a", "b", "c"].map { F.worker($0, reportingTo: me) }, strategy: .oneForAll)
            _ = try await F.nextEvents(3)
            try await Supervisor.stop(supervisor, reason: "enough")
            #expect(!supervisor.isAlive)
            #expect(try await F.pendingEvents() == ["stopping c :shutdown", "stopping b :shutdown", "stopping a :shutdown"])
            #expect(try await exitMessage(from: supervisor)?.reason == "enough")
            await #expect(throws: CallError.noproc) { try await Supervisor.stop(supervisor) }
        }
    }

    @Test("stop gives up waiting after its timeout")
    func stopTimeout() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(
                children: [F.worker("slow", reportingTo: me, shutdown: .infinity, ignoresShutdown: true)], strategy: .oneForOne)
            let slow = try await F.started("slow")
            await #expect(throws: CallError.timeout) { try await Supervisor.stop(supervisor, timeout: 50) }
            #expect(supervisor.isAlive)
            _ = try await F.make(slow, .exit(.shutdown))
            _ = try await down(try monitor(supervisor))
        }
    }

    @Test("a child that ignores shutdown is killed once its shutdown time has passed, and reported")
    func shutdownTimeout() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(
                children: [F.worker("stubborn", reportingTo: me, shutdown: .timeout(100), ignoresShutdown: true)],
                strategy: .oneForOne)
            let stubborn = try await F.started("stubborn")
            let ref = try monitor(stubborn)
            try await Supervisor.terminateChild(supervisor, id: "stubborn")
            #expect(!stubborn.isAlive)
            #expect(try await F.pendingEvents() == ["stopping stubborn :shutdown"])
            #expect(try await down(ref)?.reason == .killed)
            #expect(CapturedLogs.shared.messages(for: stubborn).contains {
                $0.hasPrefix("Child \"stubborn\" of Supervisor \(supervisor) shut down abnormally\n** (exit) :killed")
            })
        }
    }

    @Test("a brutal kill child is killed at once, without a shutdown signal first, and is not reported")
    func brutalKill() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(
                children: [F.worker("a", reportingTo: me, shutdown: .brutalKill)], strategy: .oneForOne)
            let a = try await F.started("a")
            let ref = try monitor(a)
            try await Supervisor.terminateChild(supervisor, id: "a")
            #expect(try await down(ref)?.reason == .killed)
            #expect(try await F.pendingEvents().isEmpty)
            #expect(CapturedLogs.shared.messages(for: a).isEmpty)
        }
    }

    @Test("an infinity shutdown waits for the child for as long as it takes")
    func infiniteShutdown() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(
                children: [F.worker("slow", reportingTo: me, shutdown: .infinity, ignoresShutdown: true)], strategy: .oneForOne)
            let slow = try await F.started("slow")
            let caller = spawn {
                try await Supervisor.terminateChild(supervisor, id: "slow")
                send(me, Atom("terminated"))
            }
            #expect(try await F.nextEvents(1) == ["stopping slow :shutdown"])
            // Longer than any timeout this test would otherwise use: still waiting.
            #expect(try await receive(after: 300, { (m: Atom) in m == "terminated" ? m : nil }) == nil)
            #expect(slow.isAlive && caller.isAlive)
            #expect(try await F.make(slow, .exit(.shutdown)) == .shutdown)
            #expect(try await receive(after: 10_000, { (m: Atom) in m == "terminated" ? m : nil }) != nil)
        }
    }

    @Test("a supervisor child is stopped after the children started after it, and stops its own children first")
    func nestedShutdownOrder() async throws {
        try await withProcess {
            let me = try Pid.current
            let inner = Supervisor.ChildSpec.supervisor(id: "inner") {
                try await Supervisor.startLink(children: ["w1", "w2"].map { F.worker($0, reportingTo: me) }, strategy: .oneForOne)
            }
            let root = try await Supervisor.startLink(
                children: [F.worker("first", reportingTo: me), inner, F.worker("last", reportingTo: me)], strategy: .oneForOne)
            #expect(try await F.nextEvents(4) == ["started first", "started w1", "started w2", "started last"])
            #expect(try await Supervisor.countChildren(root) == .init(specs: 3, active: 3, supervisors: 1, workers: 2))
            #expect(try await Supervisor.whichChildren(root).map(\.type) == [.worker, .supervisor, .worker])
            try await Supervisor.stop(root)
            #expect(try await F.pendingEvents() == [
                "stopping last :shutdown", "stopping w2 :shutdown", "stopping w1 :shutdown", "stopping first :shutdown",
            ])
        }
    }

    @Test("a killed supervisor child takes its children with it and is restarted with new ones")
    func nestedRestart() async throws {
        try await withProcess {
            let me = try Pid.current
            let inner = Supervisor.ChildSpec.supervisor(id: "inner") {
                try await Supervisor.startLink(children: [F.worker("w", reportingTo: me)], strategy: .oneForOne)
            }
            let root = try await Supervisor.startLink(children: [inner], strategy: .oneForOne)
            let w = try await F.started("w")
            let innerPid = try #require(try await F.pid(of: "inner", in: root))
            innerPid.exit(.kill)
            // The old child and the new supervisor run concurrently: no order between these two.
            #expect(Set(try await F.nextEvents(2)) == ["stopping w :killed", "started w"])
            #expect(!w.isAlive)
            #expect(try await F.pid(of: "inner", in: root) != innerPid)
        }
    }

    // MARK: Managing children

    @Test("startChild adds a child after the others; a taken id, a present id and a failed start are refused")
    func startChild() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(children: [F.worker("a", reportingTo: me)], strategy: .oneForOne)
            let a = try await F.started("a")
            let b = try await Supervisor.startChild(supervisor, F.worker("b", reportingTo: me))
            #expect(try await F.started("b") == b)
            #expect(try await Supervisor.whichChildren(supervisor).map(\.id) == ["a", "b"])
            await #expect(throws: SupervisorError.alreadyStarted(a)) {
                try await Supervisor.startChild(supervisor, F.worker("a", reportingTo: me))
            }
            try await Supervisor.terminateChild(supervisor, id: "a")
            await #expect(throws: SupervisorError.alreadyPresent) {
                try await Supervisor.startChild(supervisor, F.worker("a", reportingTo: me))
            }
            await #expect(throws: SupervisorError.startFailed(id: "c", reason: .error(RuntimeError("c cannot start")))) {
                try await Supervisor.startChild(supervisor, F.failing("c"))
            }
            #expect(try await Supervisor.whichChildren(supervisor).map(\.id) == ["a", "b"])
        }
    }

    @Test("terminateChild stops a child and keeps its spec, forgets a temporary one, and does not know other ids")
    func terminateChild() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(
                children: [F.worker("a", reportingTo: me), F.worker("t", reportingTo: me, restart: .temporary)],
                strategy: .oneForAll)
            let a = try await F.started("a")
            try await Supervisor.terminateChild(supervisor, id: "a")
            #expect(!a.isAlive)
            try await Supervisor.terminateChild(supervisor, id: "a")
            try await Supervisor.terminateChild(supervisor, id: "t")
            #expect(try await F.pendingEvents() == ["started t", "stopping a :shutdown", "stopping t :shutdown"])
            #expect(try await Supervisor.whichChildren(supervisor) == [Info(id: "a", pid: nil, type: .worker)])
            await #expect(throws: SupervisorError.notFound) { try await Supervisor.terminateChild(supervisor, id: "t") }
            await #expect(throws: SupervisorError.notFound) { try await Supervisor.terminateChild(supervisor, id: "zz") }
        }
    }

    @Test("restartChild starts a terminated child again; a running child, an unknown id and a failed start are refused")
    func restartChild() async throws {
        try await withProcess {
            let starts = F.Attempts()
            let me = try Pid.current
            let once = Supervisor.ChildSpec.worker(id: "once") {
                guard starts.next() == 1 else { throw RuntimeError("only once") }
                return try spawnLink { _ = try await receive(F.Command.self) }
            }
            let supervisor = try await Supervisor.startLink(children: [F.worker("a", reportingTo: me), once], strategy: .oneForOne)
            let a = try await F.started("a")
            await #expect(throws: SupervisorError.running) { try await Supervisor.restartChild(supervisor, id: "a") }
            await #expect(throws: SupervisorError.notFound) { try await Supervisor.restartChild(supervisor, id: "zz") }
            try await Supervisor.terminateChild(supervisor, id: "a")
            let again = try await Supervisor.restartChild(supervisor, id: "a")
            #expect(again != a && again.isAlive)
            #expect(try await Supervisor.whichChildren(supervisor).map(\.pid) == [again, try await F.pid(of: "once", in: supervisor)])
            try await Supervisor.terminateChild(supervisor, id: "once")
            await #expect(throws: SupervisorError.startFailed(id: "once", reason: .error(RuntimeError("only once")))) {
                try await Supervisor.restartChild(supervisor, id: "once")
            }
            #expect(try await Supervisor.whichChildren(supervisor).last == Info(id: "once", pid: nil, type: .worker))
        }
    }

    @Test("deleteChild removes a stopped child's spec; a running child and an unknown id are refused")
    func deleteChild() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(
                children: [F.worker("a", reportingTo: me), F.worker("b", reportingTo: me)], strategy: .oneForOne)
            await #expect(throws: SupervisorError.running) { try await Supervisor.deleteChild(supervisor, id: "a") }
            try await Supervisor.terminateChild(supervisor, id: "a")
            try await Supervisor.deleteChild(supervisor, id: "a")
            #expect(try await Supervisor.whichChildren(supervisor).map(\.id) == ["b"])
            await #expect(throws: SupervisorError.notFound) { try await Supervisor.deleteChild(supervisor, id: "a") }
            #expect(try await Supervisor.countChildren(supervisor) == .init(specs: 1, active: 1, supervisors: 0, workers: 1))
        }
    }

    @Test("a dead supervisor answers every call with noproc")
    func deadSupervisor() async throws {
        try await withProcess {
            let supervisor = try await Supervisor.startLink(children: [], strategy: .oneForOne)
            try await Supervisor.stop(supervisor)
            await #expect(throws: CallError.noproc) { try await Supervisor.whichChildren(supervisor) }
            await #expect(throws: CallError.noproc) { try await Supervisor.countChildren(supervisor) }
            await #expect(throws: CallError.noproc) { try await Supervisor.terminateChild(supervisor, id: "a") }
            await #expect(throws: CallError.noproc) { try await Supervisor.startChild(supervisor, F.failing("a")) }
        }
        await #expect(throws: CallError.noproc) { try await Supervisor.whichChildren("sup_test_nobody") }
    }

    // MARK: Reports and odd messages

    @Test("a crashed child is reported with its id, pid and reason")
    func crashReport() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(
                children: [F.worker("a", reportingTo: me), F.worker("quiet", reportingTo: me, restart: .transient)],
                strategy: .oneForOne)
            let a = try await F.started("a")
            let quiet = try await F.started("quiet")
            _ = try await F.make(a, .exit("boom"))
            _ = try await F.started("a")
            _ = try await F.make(quiet, .exit(.shutdown))
            _ = try await Supervisor.whichChildren(supervisor)
            #expect(CapturedLogs.shared.messages(for: a) == [
                "Child \"a\" of Supervisor \(supervisor) terminated\n** (exit) :boom\nPid: \(a)\nRestart: :permanent\nShutdown: 5000\nType: :worker"
            ])
            #expect(CapturedLogs.shared.messages(for: quiet).isEmpty)
        }
    }

    @Test("unexpected messages and calls are logged and the supervisor carries on; GenServer's stop request stops it")
    func unexpectedMessages() async throws {
        try await withProcess {
            let supervisor = try await Supervisor.startLink(children: [], strategy: .oneForOne)
            send(supervisor, "hello")
            let reply: Result<Void, SupervisorError> = try await Calls.call(supervisor, "what?", timeout: 10_000)
            #expect(throws: SupervisorError(code: .unexpectedRequest("\"what?\""))) { try reply.get() }
            #expect(try await Supervisor.countChildren(supervisor).specs == 0)
            let ref = try monitor(supervisor)
            try trapExits(true)
            send(supervisor, StopRequest(reason: "done"))
            #expect(try await down(ref)?.reason == "done")
        }
    }
}

/// The pure rules, checked without processes: restart intensity, which
/// children each strategy stops and starts, and what is reported.
@Suite("Supervisor restart rules")
struct SupervisorRestartRuleTests {
    typealias Core = Supervisor.Core
    typealias Key = Supervisor.ChildKey
    typealias Summary = Supervisor.ChildSummary

    /// A pid no process has: node 7 is not this one.
    static func pid(_ n: UInt32) -> Pid { Pid(node: 7, id: n, serial: 0, creation: 0) }

    static func spec(_ id: String, _ restart: Supervisor.Restart = .permanent) -> Supervisor.ChildSpec {
        .worker(id: id, restart: restart) { throw RuntimeError("not started in these tests") }
    }

    /// A core whose children `specs` run as pids 1, 2, 3, …
    static func core(
        _ strategy: Supervisor.Strategy, _ specs: [Supervisor.ChildSpec], maxRestarts: Int = 3
    ) -> (Core, [Key]) {
        var core = Core(strategy: strategy, intensity: .init(maxRestarts: maxRestarts, maxSeconds: 5))
        let keys = specs.enumerated().map { index, spec in
            core.children.add(spec, status: .running(pid(UInt32(index + 1))))
        }
        return (core, keys)
    }

    static func terminated(_ id: String, _ n: UInt32, _ reason: ExitReason, _ restart: Supervisor.Restart = .permanent) -> Core.Action {
        .report(Supervisor.Report(.childTerminated, Summary(id: id, restart: restart), pid: pid(n), reason: reason))
    }

    static func termination(_ id: String, _ n: UInt32, _ restart: Supervisor.Restart = .permanent) -> Supervisor.Termination {
        Supervisor.Termination(pid: pid(n), child: Summary(id: id, restart: restart))
    }

    // MARK: Intensity

    @Test("the intensity allows maxRestarts restarts within maxSeconds and refuses one more")
    func intensityLimit() {
        var intensity = Supervisor.RestartIntensity(maxRestarts: 3, maxSeconds: 5)
        let start = ContinuousClock.now
        let answers = (0..<4).map { intensity.allowsRestart(at: start + .seconds($0)) }
        #expect(answers == [true, true, true, false])
    }

    @Test("restarts older than maxSeconds no longer count")
    func intensityWindow() {
        var intensity = Supervisor.RestartIntensity(maxRestarts: 2, maxSeconds: 5)
        let start = ContinuousClock.now
        // The first drops out of the window just before the third comes.
        let offsets: [Duration] = [.zero, .seconds(4), .milliseconds(5_001), .seconds(6)]
        let answers = offsets.map { intensity.allowsRestart(at: start + $0) }
        #expect(answers == [true, true, true, false])
    }

    @Test("maxRestarts 0 refuses the first restart")
    func intensityZero() {
        var intensity = Supervisor.RestartIntensity(maxRestarts: 0, maxSeconds: 5)
        let allowed = intensity.allowsRestart(at: .now)
        #expect(!allowed)
    }

    // MARK: Restart types

    @Test("permanent children restart after any exit, transient ones after a crash, temporary ones never", arguments: [
        (Supervisor.Restart.permanent, ExitReason.normal, true), (.permanent, .shutdown, true), (.permanent, "boom", true),
        (.transient, .normal, false), (.transient, .shutdown, false), (.transient, .shutdown("x"), false),
        (.transient, "boom", true), (.transient, .killed, true),
        (.temporary, .normal, false), (.temporary, "boom", false),
    ])
    func restartTypes(restart: Supervisor.Restart, reason: ExitReason, restarts: Bool) {
        #expect(restart.restarts(after: reason) == restarts)
    }

    @Test("the defaults: permanent, 5 seconds to shut down for a worker, infinity for a supervisor")
    func defaults() {
        let worker = Supervisor.ChildSpec(id: "w") { throw RuntimeError("unused") }
        let supervisor = Supervisor.ChildSpec(id: "s", type: .supervisor) { throw RuntimeError("unused") }
        #expect(worker.restart == .permanent && worker.shutdown == .timeout(5_000) && worker.type == .worker)
        #expect(supervisor.shutdown == .infinity && supervisor.type == .supervisor)
        #expect(Supervisor.ChildSpec.supervisor(id: "s") { throw RuntimeError("unused") }.shutdown == .infinity)
        #expect(Supervisor.ChildSpec.worker(id: "w") { throw RuntimeError("unused") }.shutdown == .timeout(5_000))
        #expect(Supervisor.Shutdown.timeout(-5) == .timeout(0))
    }

    // MARK: Strategies

    @Test("one for one restarts only the child that exited")
    func oneForOne() {
        var (core, keys) = Self.core(.oneForOne, ["a", "b", "c"].map { Self.spec($0) })
        let actions = core.childExited(Self.pid(2), reason: "boom", at: .now)
        #expect(actions == [Self.terminated("b", 2, "boom"), .start([keys[1]])])
        #expect(core.children[keys[1]]?.status == .stopped)
        #expect(core.children[keys[0]]?.status == .running(Self.pid(1)))
    }

    @Test("one for all stops the others newest first and starts all in order")
    func oneForAll() {
        var (core, keys) = Self.core(.oneForAll, ["a", "b", "c"].map { Self.spec($0) })
        let actions = core.childExited(Self.pid(2), reason: "boom", at: .now)
        #expect(actions == [
            Self.terminated("b", 2, "boom"),
            .terminate([Self.termination("c", 3), Self.termination("a", 1)]),
            .start(keys),
        ])
        #expect(keys.allSatisfy { core.children[$0]?.status == .stopped })
    }

    @Test("rest for one stops the children started after it, newest first, and starts it and them in order")
    func restForOne() {
        var (core, keys) = Self.core(.restForOne, ["a", "b", "c", "d"].map { Self.spec($0) })
        let actions = core.childExited(Self.pid(2), reason: "boom", at: .now)
        #expect(actions == [
            Self.terminated("b", 2, "boom"),
            .terminate([Self.termination("d", 4), Self.termination("c", 3)]),
            .start(Array(keys[1...])),
        ])
        #expect(core.children[keys[0]]?.status == .running(Self.pid(1)))
    }

    @Test("temporary siblings stopped by a one for all restart are dropped, not restarted")
    func temporarySiblings() {
        var (core, keys) = Self.core(.oneForAll, [Self.spec("a", .temporary), Self.spec("b"), Self.spec("c")])
        let actions = core.childExited(Self.pid(3), reason: "boom", at: .now)
        #expect(actions == [
            Self.terminated("c", 3, "boom"),
            .terminate([Self.termination("b", 2), Self.termination("a", 1, .temporary)]),
            .start([keys[1], keys[2]]),
        ])
        #expect(core.children[keys[0]] == nil)
    }

    @Test("an exit from a process that is not a child changes nothing")
    func notAChild() {
        var (core, _) = Self.core(.oneForAll, ["a"].map { Self.spec($0) })
        let actions = core.childExited(Self.pid(99), reason: "boom", at: .now)
        #expect(actions.isEmpty)
        #expect(core.children.counts.active == 1)
    }

    @Test("a child that is not restarted: temporary ones are dropped, transient ones kept stopped; only crashes are reported")
    func notRestarted() {
        var (core, keys) = Self.core(
            .oneForAll, [Self.spec("t", .temporary), Self.spec("u", .transient), Self.spec("v", .temporary)])
        let normal = core.childExited(Self.pid(1), reason: .normal, at: .now)
        let orderly = core.childExited(Self.pid(2), reason: .shutdown("done"), at: .now)
        let crash = core.childExited(Self.pid(3), reason: "boom", at: .now)
        #expect(normal.isEmpty && orderly.isEmpty)
        #expect(crash == [Self.terminated("v", 3, "boom", .temporary)])
        #expect(core.children.infos == [Supervisor.ChildInfo(id: "u", pid: nil, type: .worker)])
        #expect(core.children[keys[1]]?.status == .stopped)
    }

    @Test("a dynamic supervisor's core drops the children that will not run again")
    func dynamicForgets() {
        var core = Core(strategy: .oneForOne, intensity: .init(maxRestarts: 3, maxSeconds: 5), keepsStoppedChildren: false)
        core.children.add(Self.spec("t", .transient), status: .running(Self.pid(1)))
        let key = core.children.add(Self.spec("p"), status: .running(Self.pid(2)))
        let actions = core.childExited(Self.pid(1), reason: .normal, at: .now)
        #expect(actions.isEmpty)
        #expect(core.children.infos.map(\.id) == ["p"])
        let termination = core.stop(key, forgetting: false)
        #expect(termination == Self.termination("p", 2) && core.children.count == 0)
    }

    @Test("a permanent child that exits normally is reported and restarted")
    func permanentNormalExit() {
        var (core, keys) = Self.core(.oneForOne, [Self.spec("a")])
        let actions = core.childExited(Self.pid(1), reason: .normal, at: .now)
        #expect(actions == [Self.terminated("a", 1, .normal), .start(keys)])
    }

    @Test("one restart too many reports it and gives up")
    func givesUp() {
        var (core, keys) = Self.core(.oneForOne, [Self.spec("a")], maxRestarts: 1)
        let now = ContinuousClock.now
        let first = core.childExited(Self.pid(1), reason: "boom", at: now)
        #expect(first == [Self.terminated("a", 1, "boom"), .start(keys)])
        core.started(keys[0], pid: Self.pid(2))
        let second = core.childExited(Self.pid(2), reason: "boom", at: now)
        #expect(second == [
            Self.terminated("a", 2, "boom"),
            .report(Supervisor.Report(.reachedMaxIntensity, Summary(id: "a"), pid: Self.pid(2), reason: "reached_max_restart_intensity")),
            .giveUp,
        ])
        let leftToStop = core.terminateAll()
        #expect(leftToStop.isEmpty)
    }

    @Test("a failed restart makes the child restarting and queues a retry, which restarts what the strategy says")
    func failedRestart() {
        var (core, keys) = Self.core(.oneForAll, ["a", "b", "c"].map { Self.spec($0) })
        _ = core.childExited(Self.pid(2), reason: "boom", at: .now)
        core.started(keys[0], pid: Self.pid(4))
        let failure = core.restartFailed(keys[1], reason: "nope")
        #expect(failure == [
            .report(Supervisor.Report(.startError, Summary(id: "b"), pid: nil, reason: "nope")), .retryLater(keys[1]),
        ])
        #expect(core.children.infos.map(\.isRestarting) == [false, true, false])
        let retry = core.retry(keys[1], at: .now)
        #expect(retry == [.terminate([Self.termination("a", 4)]), .start(keys)])
        let secondRetry = core.retry(keys[1], at: .now)
        #expect(secondRetry.isEmpty)
    }

    @Test("a retry for a child that was terminated meanwhile does nothing")
    func staleRetry() {
        var (core, keys) = Self.core(.oneForOne, [Self.spec("a")])
        _ = core.childExited(Self.pid(1), reason: "boom", at: .now)
        _ = core.restartFailed(keys[0], reason: "nope")
        let termination = core.stop(keys[0], forgetting: false)
        let retry = core.retry(keys[0], at: .now)
        #expect(termination == nil && retry.isEmpty)
        #expect(core.children[keys[0]]?.status == .stopped)
    }

    @Test("stopping on request keeps the spec unless the child is temporary or is to be forgotten")
    func stopOnRequest() {
        var (core, keys) = Self.core(.oneForOne, [Self.spec("a"), Self.spec("t", .temporary), Self.spec("f")])
        let terminations = [
            core.stop(keys[0], forgetting: false), core.stop(keys[1], forgetting: false), core.stop(keys[2], forgetting: true),
        ]
        #expect(terminations == [Self.termination("a", 1), Self.termination("t", 2, .temporary), Self.termination("f", 3)])
        #expect(core.children.infos == [Supervisor.ChildInfo(id: "a", pid: nil, type: .worker)])
    }

    @Test("on exit every running child is stopped, newest first")
    func terminateAll() {
        var (core, keys) = Self.core(.oneForOne, ["a", "b", "c"].map { Self.spec($0) })
        _ = core.stop(keys[1], forgetting: false)
        let terminations = core.terminateAll()
        #expect(terminations == [Self.termination("c", 3), Self.termination("a", 1)])
    }

    // MARK: Table, shutdown and reports

    @Test("counts and infos follow start order and status")
    func table() {
        var table = Supervisor.ChildTable()
        let supervisorSpec = Supervisor.ChildSpec.supervisor(id: "s") { throw RuntimeError("unused") }
        table.add(Self.spec("a"), status: .running(Self.pid(1)))
        let s = table.add(supervisorSpec, status: .stopped)
        let c = table.add(Self.spec("c"), status: .restarting)
        #expect(table.counts == .init(specs: 3, active: 1, supervisors: 1, workers: 2))
        #expect(table.infos == [
            .init(id: "a", pid: Self.pid(1), type: .worker), .init(id: "s", pid: nil, type: .supervisor),
            .init(id: "c", pid: nil, type: .worker, isRestarting: true),
        ])
        table.setStatus(.running(Self.pid(5)), of: c)
        #expect(table.key(of: Self.pid(5)) == c && table.key(ofId: "s") == s)
        table.remove(c)
        #expect(table.key(of: Self.pid(5)) == nil && table.count == 2)
    }

    @Test("a child stopped cleanly: shutdown always, killed only when killing was the plan, normal unless permanent")
    func cleanShutdown() {
        let worker = Summary(id: "w")
        let brutal = Summary(id: "b", shutdown: .brutalKill)
        let transient = Summary(id: "t", restart: .transient)
        #expect(Supervisor.ChildShutdown.isClean(.shutdown, for: worker))
        #expect(Supervisor.ChildShutdown.isClean(.shutdown("bye"), for: worker))
        #expect(!Supervisor.ChildShutdown.isClean(.killed, for: worker))
        #expect(Supervisor.ChildShutdown.isClean(.killed, for: brutal))
        #expect(!Supervisor.ChildShutdown.isClean(.normal, for: worker))
        #expect(Supervisor.ChildShutdown.isClean(.normal, for: transient))
        #expect(!Supervisor.ChildShutdown.isClean("boom", for: transient))
    }

    @Test("reports read like Elixir's")
    func reportText() {
        let child = Summary(id: "db", restart: .transient, shutdown: .brutalKill, type: .worker)
        #expect(Supervisor.Report(.childTerminated, child, pid: Self.pid(3), reason: "boom").text(supervisor: ":app") == """
            Child "db" of Supervisor :app terminated
            ** (exit) :boom
            Pid: #PID<7.3.0>
            Restart: :transient
            Shutdown: :brutal_kill
            Type: :worker
            """)
        #expect(Supervisor.Report(.startError, child, pid: nil, reason: "x").text(supervisor: ":app").hasPrefix(
            "Child \"db\" of Supervisor :app failed to start\n** (exit) :x\nRestart:"))
        #expect(Supervisor.Report(.shutdownError, child, pid: nil, reason: "x").text(supervisor: ":app").contains("shut down abnormally"))
        #expect(!Supervisor.Report(.reachedMaxIntensity, child, pid: Self.pid(3), reason: "x").text(supervisor: ":app").contains("Pid:"))
    }
}
