import Testing

@testable import Ember

extension SupervisorTests {
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
            let flaky = F.startsOnce("flaky", counting: starts, thenFailing: "no more")
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
            #expect(CapturedLogs.shared.hasMessage(
                for: first, startingWith: "Child \"flaky\" of Supervisor \(supervisor) terminated"))
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
            #expect(CapturedLogs.shared.hasMessage(
                for: a, startingWith: "Child \"a\" of Supervisor \(supervisor) caused shutdown\n** (exit) :reached_max_restart_intensity"))
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
}
