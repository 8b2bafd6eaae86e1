import Testing

@testable import Ember

extension SupervisorTests {
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
            #expect(CapturedLogs.shared.hasMessage(
                for: stubborn, startingWith: "Child \"stubborn\" of Supervisor \(supervisor) shut down abnormally\n** (exit) :killed"))
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
}
