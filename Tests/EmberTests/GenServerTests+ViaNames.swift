import Testing

@testable import Ember

@Suite("Names through a registry")
struct ViaNameTests {
    @Test("a GenServer and an Agent named through a Registry are found, called and freed by their key")
    func viaNames() async throws {
        try await withProcess {
            _ = try await Registry.startLink(keys: .unique, name: "via_test_registry")
            let name = ProcessName.via("via_test_registry", key: "counter")
            let server = try await Probe.start(.init(observer: try Pid.current), name: name)
            #expect(name.whereis() == server)
            #expect(try await Probe.call(name, .put(4)) == 4)
            await #expect(throws: StartError.alreadyStarted(server)) {
                try await Probe.start(.init(observer: try Pid.current), name: name)
            }
            let agentName = ProcessName.via("via_test_registry", key: 7)
            let agent = try await Agent.start(name: agentName) { "agent state" }
            #expect(agentName.whereis() == agent.pid)
            try await Probe.stop(server)
            #expect(await eventually { name.whereis() == nil })
        }
    }
}
