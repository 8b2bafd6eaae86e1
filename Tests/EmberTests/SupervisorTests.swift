import Testing

@testable import Ember

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

}
