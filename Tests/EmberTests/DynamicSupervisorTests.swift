import Testing

@testable import Ember

@Suite("DynamicSupervisor")
struct DynamicSupervisorTests {
    typealias F = SupervisionFixture
    typealias Info = Supervisor.ChildInfo

    init() { _ = CapturedLogs.shared }

    // MARK: Starting

    @Test("startLink starts a supervisor with no children")
    func startsEmpty() async throws {
        try await withProcess {
            let supervisor = try await DynamicSupervisor.startLink()
            #expect(try await DynamicSupervisor.whichChildren(supervisor).isEmpty)
            #expect(try await DynamicSupervisor.countChildren(supervisor) == .init(specs: 0, active: 0, supervisors: 0, workers: 0))
        }
    }

    @Test("startLink outside a process throws notInProcess, and rejects out-of-range options")
    func startLinkErrors() async throws {
        await #expect(throws: ProcessError.notInProcess("DynamicSupervisor.startLink")) {
            try await DynamicSupervisor.startLink()
        }
        try await withProcess {
            await #expect(throws: SupervisorError.invalidOption("maxChildren must be 0 or more, not -1")) {
                try await DynamicSupervisor.startLink(maxChildren: -1)
            }
            await #expect(throws: SupervisorError.invalidOption("maxRestarts must be 0 or more, not -2")) {
                try await DynamicSupervisor.startLink(maxRestarts: -2)
            }
        }
    }

    @Test("startChild starts children linked to the supervisor, listed oldest first; ids need not be unique")
    func startChild() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await DynamicSupervisor.startLink()
            let a = try await DynamicSupervisor.startChild(supervisor, F.worker("job", reportingTo: me))
            let b = try await DynamicSupervisor.startChild(supervisor, F.worker("job", reportingTo: me))
            #expect(try await F.pendingEvents() == ["started job", "started job"])
            #expect(try await DynamicSupervisor.whichChildren(supervisor) == [
                Info(id: "job", pid: a, type: .worker), Info(id: "job", pid: b, type: .worker),
            ])
            #expect(a.info()?.links.contains(supervisor) == true)
        }
    }

    @Test("startChild throws startFailed when the start function throws, and keeps nothing")
    func startFailure() async throws {
        try await withProcess {
            let supervisor = try await DynamicSupervisor.startLink()
            await #expect(throws: SupervisorError.startFailed(id: "x", reason: .error(RuntimeError("x cannot start")))) {
                try await DynamicSupervisor.startChild(supervisor, F.failing("x"))
            }
            #expect(try await DynamicSupervisor.countChildren(supervisor).specs == 0)
        }
    }

    @Test("maxChildren refuses one child too many; a place freed can be taken again")
    func maxChildren() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await DynamicSupervisor.startLink(maxChildren: 2)
            let a = try await DynamicSupervisor.startChild(supervisor, F.worker("a", reportingTo: me))
            _ = try await DynamicSupervisor.startChild(supervisor, F.worker("b", reportingTo: me))
            await #expect(throws: SupervisorError.maxChildren) {
                try await DynamicSupervisor.startChild(supervisor, F.worker("c", reportingTo: me))
            }
            try await DynamicSupervisor.terminateChild(supervisor, pid: a)
            _ = try await DynamicSupervisor.startChild(supervisor, F.worker("c", reportingTo: me))
            #expect(try await DynamicSupervisor.whichChildren(supervisor).map(\.id) == ["b", "c"])
        }
    }

    @Test("terminateChild stops the child and forgets it; another pid is not found")
    func terminateChild() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await DynamicSupervisor.startLink()
            let a = try await DynamicSupervisor.startChild(supervisor, F.worker("a", reportingTo: me))
            try await DynamicSupervisor.terminateChild(supervisor, pid: a)
            #expect(!a.isAlive)
            #expect(try await F.pendingEvents() == ["started a", "stopping a :shutdown"])
            #expect(try await DynamicSupervisor.whichChildren(supervisor).isEmpty)
            await #expect(throws: SupervisorError.notFound) { try await DynamicSupervisor.terminateChild(supervisor, pid: a) }
            await #expect(throws: SupervisorError.notFound) { try await DynamicSupervisor.terminateChild(supervisor, pid: me) }
        }
    }

    // MARK: Restarts

    @Test("children are restarted by their restart type, each on its own", arguments: [
        (Supervisor.Restart.permanent, F.Command.exit(.normal), true), (.permanent, .crash, true),
        (.transient, .crash, true), (.transient, .exit(.shutdown), false),
        (.temporary, .crash, false), (.temporary, .exit(.normal), false),
    ])
    func restarts(restart: Supervisor.Restart, command: F.Command, restarted: Bool) async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await DynamicSupervisor.startLink()
            let sibling = try await DynamicSupervisor.startChild(supervisor, F.worker("sibling", reportingTo: me))
            let child = try await DynamicSupervisor.startChild(supervisor, F.worker("child", reportingTo: me, restart: restart))
            _ = try await F.make(child, command)
            let children = try await DynamicSupervisor.whichChildren(supervisor)
            #expect(children.first == Info(id: "sibling", pid: sibling, type: .worker))
            #expect(children.count == (restarted ? 2 : 1))
            if restarted {
                #expect(children.last?.pid != child && children.last?.pid?.isAlive == true)
            }
        }
    }

    @Test("a failed restart leaves the child restarting until a retry succeeds or it is given up")
    func failedRestart() async throws {
        try await withProcess {
            let starts = F.Attempts()
            let flaky = F.startsOnce("flaky", counting: starts, thenFailing: "no more")
            let supervisor = try await DynamicSupervisor.startLink(maxRestarts: 1_000_000)
            let child = try await DynamicSupervisor.startChild(supervisor, flaky)
            _ = try await F.make(child, .crash)
            #expect(try await DynamicSupervisor.whichChildren(supervisor) == [Info(id: "flaky", pid: nil, type: .worker, isRestarting: true)])
            #expect(try await DynamicSupervisor.countChildren(supervisor) == .init(specs: 1, active: 0, supervisors: 0, workers: 1))
            await #expect(throws: SupervisorError.notFound) { try await DynamicSupervisor.terminateChild(supervisor, pid: child) }
            #expect(CapturedLogs.shared.hasMessage(
                for: child, startingWith: "Child \"flaky\" of Supervisor \(supervisor) terminated"))
        }
    }

    @Test("one restart too many makes it stop every child and exit shutdown, which its parent sees")
    func intensity() async throws {
        try await withProcess {
            try trapExits(true)
            let me = try Pid.current
            let supervisor = try await DynamicSupervisor.startLink(maxRestarts: 1, maxSeconds: 3600)
            _ = try await DynamicSupervisor.startChild(supervisor, F.worker("other", reportingTo: me))
            let crashing = try await DynamicSupervisor.startChild(supervisor, F.worker("crashing", reportingTo: me))
            #expect(try await F.started("crashing") == crashing)
            _ = try await F.make(crashing, .crash)
            _ = try await F.make(try await F.started("crashing"), .crash)
            #expect(try await exitMessage(from: supervisor)?.reason == .shutdown)
            #expect(try await F.pendingEvents() == ["started other", "stopping other :shutdown"])
        }
    }

    // MARK: Shutdown

    @Test("on stop every child is asked at once, and the supervisor waits for all of them")
    func stopTogether() async throws {
        try await withProcess {
            try trapExits(true)
            let me = try Pid.current
            let supervisor = try await DynamicSupervisor.startLink()
            var children: [Pid] = []
            for id in ["a", "b", "c"] {
                children.append(
                    try await DynamicSupervisor.startChild(
                        supervisor, F.worker(id, reportingTo: me, shutdown: .infinity, ignoresShutdown: true)))
            }
            _ = try await F.nextEvents(3)
            let ref = try monitor(supervisor)
            let caller = spawn {
                try await DynamicSupervisor.stop(supervisor, reason: .shutdown)
                send(me, Atom("stopped"))
            }
            // Each child holds on until told: a supervisor stopping them one by
            // one would never ask the second.
            #expect(Set(try await F.nextEvents(3)) == ["stopping a :shutdown", "stopping b :shutdown", "stopping c :shutdown"])
            #expect(supervisor.isAlive && caller.isAlive)
            for child in children { _ = try await F.make(child, .exit(.shutdown)) }
            #expect(try await receive(after: 10_000, { (m: Atom) in m == "stopped" ? m : nil }) != nil)
            #expect(try await down(ref)?.reason == .shutdown)
        }
    }

    @Test("a child that ignores shutdown is killed after its timeout, and reported")
    func shutdownTimeout() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await DynamicSupervisor.startLink()
            let stubborn = try await DynamicSupervisor.startChild(
                supervisor, F.worker("stubborn", reportingTo: me, shutdown: .timeout(50), ignoresShutdown: true))
            let brutal = try await DynamicSupervisor.startChild(supervisor, F.worker("brutal", reportingTo: me, shutdown: .brutalKill))
            let refs = (try monitor(stubborn), try monitor(brutal))
            try await DynamicSupervisor.stop(supervisor)
            #expect(try await down(refs.0)?.reason == .killed)
            #expect(try await down(refs.1)?.reason == .killed)
            #expect(try await F.pendingEvents() == ["started stubborn", "started brutal", "stopping stubborn :shutdown"])
            #expect(CapturedLogs.shared.messages(for: stubborn).contains { $0.contains("shut down abnormally\n** (exit) :killed") })
            #expect(CapturedLogs.shared.messages(for: brutal).isEmpty)
        }
    }

    @Test("when its parent exits it stops its children and exits with the same reason")
    func parentExit() async throws {
        try await withProcess {
            let me = try Pid.current
            let parent = spawn {
                let supervisor = try await DynamicSupervisor.startLink()
                _ = try await DynamicSupervisor.startChild(supervisor, F.worker("a", reportingTo: me))
                send(me, supervisor)
                throw try await receive(ExitReason.self)
            }
            let supervisor = try await receive(Pid.self)
            let ref = try monitor(supervisor)
            send(parent, ExitReason("gone"))
            #expect(try await down(ref)?.reason == "gone")
            #expect(try await F.pendingEvents() == ["started a", "stopping a :shutdown"])
        }
    }

    // MARK: Names, supervisors as children, dead supervisors

    @Test("a named dynamic supervisor is reached by name, and its name cannot be taken twice")
    func names() async throws {
        try await withProcess {
            let me = try Pid.current
            let name: ProcessName = "sup_test_dynamic_named"
            let supervisor = try await DynamicSupervisor.startLink(name: name)
            let a = try await DynamicSupervisor.startChild(name, F.worker("a", reportingTo: me))
            #expect(try await DynamicSupervisor.whichChildren(name).map(\.pid) == [a])
            #expect(try await DynamicSupervisor.countChildren(name).active == 1)
            try await DynamicSupervisor.terminateChild(name, pid: a)
            await #expect(throws: SupervisorError.alreadyStarted(supervisor)) { try await DynamicSupervisor.startLink(name: name) }
            try await DynamicSupervisor.stop(name)
            #expect(!supervisor.isAlive)
            await #expect(throws: CallError.noproc) { try await DynamicSupervisor.stop(name) }
        }
    }

    @Test("a supervisor can be a child of a dynamic supervisor")
    func supervisorChild() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await DynamicSupervisor.startLink()
            let inner = try await DynamicSupervisor.startChild(supervisor, .supervisor(id: "inner") {
                try await Supervisor.startLink(children: [F.worker("w", reportingTo: me)], strategy: .oneForOne)
            })
            #expect(try await DynamicSupervisor.countChildren(supervisor) == .init(specs: 1, active: 1, supervisors: 1, workers: 0))
            #expect(try await Supervisor.whichChildren(inner).map(\.id) == ["w"])
            try await DynamicSupervisor.terminateChild(supervisor, pid: inner)
            #expect(try await F.pendingEvents() == ["started w", "stopping w :shutdown"])
        }
    }

    @Test("a dead dynamic supervisor answers every call with noproc")
    func dead() async throws {
        try await withProcess {
            let supervisor = try await DynamicSupervisor.startLink()
            try await DynamicSupervisor.stop(supervisor)
            await #expect(throws: CallError.noproc) { try await DynamicSupervisor.startChild(supervisor, F.failing("x")) }
            await #expect(throws: CallError.noproc) { try await DynamicSupervisor.terminateChild(supervisor, pid: supervisor) }
            await #expect(throws: CallError.noproc) { try await DynamicSupervisor.whichChildren(supervisor) }
            await #expect(throws: CallError.noproc) { try await DynamicSupervisor.countChildren(supervisor) }
        }
    }
}
