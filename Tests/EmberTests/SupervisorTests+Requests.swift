import Testing

@testable import Ember

extension SupervisorTests {
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
            let once = F.startsOnce("once", counting: starts, thenFailing: "only once")
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
