import Logging
import ServiceLifecycle
import Testing

@testable import Ember

@Suite("SupervisionTree as a Service")
struct SupervisionTreeServiceTests {
    struct Report: Sendable, Equatable {
        let id: String
        let event: String
    }

    static func child(_ id: String, observer: Pid) -> Supervisor.ChildSpec {
        .worker(id: id) {
            try spawnLink {
                try trapExits(true)
                send(observer, Report(id: id, event: "started"))
                let exit = try await receive(ExitMessage.self)
                send(observer, Report(id: id, event: "stopped \(exit.reason)"))
            }
        }
    }

    @Test("a tree in a ServiceGroup starts its children and stops them in reverse order on graceful shutdown")
    func gracefulShutdown() async throws {
        try await withProcess {
            let me = try Pid.current
            let tree = SupervisionTree(children: ["a", "b", "c"].map { Self.child($0, observer: me) })
            let group = ServiceGroup(services: [tree], logger: Logger(label: "ember-test"))
            let runner = Task { try await group.run() }
            var started: [String] = []
            for _ in 0..<3 { started.append(try #require(try await receive(Report.self, after: 10_000)).id) }
            #expect(started == ["a", "b", "c"])
            await group.triggerGracefulShutdown()
            var stopped: [Report] = []
            for _ in 0..<3 { stopped.append(try #require(try await receive(Report.self, after: 10_000))) }
            #expect(stopped == ["c", "b", "a"].map { Report(id: $0, event: "stopped :shutdown") })
            try await runner.value
        }
    }

    @Test("a tree that gives up makes run throw, so the group can react")
    func treeExits() async throws {
        let tree = SupervisionTree(
            children: [.worker(id: "crashy") { try spawnLink { throw RuntimeError("always") } }],
            maxRestarts: 1, maxSeconds: 5)
        await #expect(throws: SupervisionTree.Exited.self) { try await tree.run() }
    }
}
