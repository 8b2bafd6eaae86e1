import Testing

@testable import Ember

/// Elixir's `:ignore`: a child whose start is ignored runs no process.
@Suite("Supervisor and ignored children")
struct SupervisorIgnoreTests {
    static func ignoring(_ id: String, observer: Pid) -> Supervisor.ChildSpec {
        .worker(id: id) { try await Probe.startLink(.init(observer: observer, start: .ignore)) }
    }

    static func running(_ id: String) -> Supervisor.ChildSpec {
        .worker(id: id) { try spawnLink { _ = try await receive(Never.self) } }
    }

    @Test("a child whose start is ignored is kept with no pid, and the supervisor starts")
    func ignoredAtStart() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(
                children: [Self.running("a"), Self.ignoring("b", observer: me), Self.running("c")], strategy: .oneForOne)
            let children = try await Supervisor.whichChildren(supervisor)
            #expect(children.map(\.id) == ["a", "b", "c"])
            #expect(children.map { $0.pid == nil } == [false, true, false])
            #expect(try await Supervisor.countChildren(supervisor) == .init(specs: 3, active: 2, supervisors: 0, workers: 3))
        }
    }

    @Test("startChild of an ignored child throws ignored; a Supervisor keeps the spec, a DynamicSupervisor does not")
    func ignoredOnRequest() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await Supervisor.startLink(children: [], strategy: .oneForOne)
            await #expect(throws: SupervisorError.ignored) {
                try await Supervisor.startChild(supervisor, Self.ignoring("late", observer: me))
            }
            #expect(try await Supervisor.whichChildren(supervisor).map(\.id) == ["late"])
            await #expect(throws: SupervisorError.ignored) { try await Supervisor.restartChild(supervisor, id: "late") }

            let dynamic = try await DynamicSupervisor.startLink()
            await #expect(throws: SupervisorError.ignored) {
                try await DynamicSupervisor.startChild(dynamic, Self.ignoring("late", observer: me))
            }
            #expect(try await DynamicSupervisor.countChildren(dynamic).specs == 0)
        }
    }
}
