import Testing

@testable import Ember

// MARK: Errors common to every operation

@Suite("Registry: errors")
struct RegistryErrorTests {
    @Test("every operation on a registry that is not running throws unknownRegistry")
    func unknownRegistry() async throws {
        try await withProcess {
            let registry = Registry("reg_never_started")
            let unknown = RegistryError.unknownRegistry("reg_never_started")
            #expect(throws: unknown) { try registry.register("k", 1) }
            #expect(throws: unknown) { try registry.unregister("k") }
            #expect(throws: unknown) { try registry.unregisterMatch("k", as: Int.self) { _ in true } }
            #expect(throws: unknown) { try registry.lookup("k", as: Int.self) }
            #expect(throws: unknown) { try registry.match("k", as: Int.self) { _ in true } }
            #expect(throws: unknown) { try registry.count() }
            #expect(throws: unknown) { try registry.count(matching: "k") }
            #expect(throws: unknown) { try registry.count(matching: "k", as: Int.self) { _ in true } }
            #expect(throws: unknown) { try registry.select(String.self, Int.self) }
            #expect(throws: unknown) { try registry.count(String.self, Int.self) { _, _, _ in true } }
            #expect(throws: unknown) { try registry.dispatch("k", as: Int.self) { _ in } }
            #expect(throws: unknown) { try registry.keys(for: try Pid.current, as: String.self) }
            #expect(throws: unknown) { try registry.values("k", for: try Pid.current, as: Int.self) }
            #expect(throws: unknown) { try registry.updateValue("k", as: Int.self) { $0 } }
            #expect(throws: unknown) { try registry.meta("m", as: Int.self) }
            #expect(throws: unknown) { try registry.putMeta("m", 1) }
            #expect(throws: unknown) { try registry.deleteMeta("m") }
            #expect(throws: unknown) { try Registry.whereisName(registry.name, "k") }
            #expect(throws: unknown) { try Registry.registerName(registry.name, "k", try Pid.current) }
            #expect(throws: unknown) { try Registry.unregisterName(registry.name, "k") }
            #expect(throws: unknown) { try Registry.sendName(registry.name, "k", "hi") }
            await #expect(throws: unknown) { try await registry.stop() }
        }
    }

    @Test("registering and unregistering outside a process throw notInProcess")
    func outsideProcess() async throws {
        let registry = Registry("reg_outside_calls")
        let me = try await withProcess { try Pid.current }
        #expect(throws: RegistryError.notInProcess("Registry.register")) { try registry.register("k", 1) }
        #expect(throws: RegistryError.notInProcess("Registry.unregister")) { try registry.unregister("k") }
        #expect(throws: RegistryError.notInProcess("Registry.unregisterMatch")) {
            try registry.unregisterMatch("k", as: Int.self) { _ in true }
        }
        #expect(throws: RegistryError.notInProcess("Registry.updateValue")) {
            try registry.updateValue("k", as: Int.self) { $0 }
        }
        #expect(throws: RegistryError.notInProcess("Registry.registerName")) {
            try Registry.registerName(registry.name, "k", me)
        }
        #expect(throws: RegistryError.notInProcess("Registry.unregisterName")) {
            try Registry.unregisterName(registry.name, "k")
        }
    }

    @Test("registry errors describe themselves and name the holder")
    func descriptions() {
        let pid = Pid(node: 0, id: 7, serial: 0, creation: 0)
        #expect(RegistryError.alreadyRegistered(pid).holder == pid)
        #expect(RegistryError.alreadyStarted(pid).holder == pid)
        #expect(RegistryError.unknownRegistry("r").holder == nil)
        #expect(RegistryError.alreadyRegistered(pid).description == "the key is already registered by #PID<0.7.0>")
        #expect(RegistryError.notRegistered("worker").description == "nothing is registered under worker")
        #expect(RegistryError.notRegistered("worker") != RegistryError.notRegistered(1))
        #expect(Registry.Keys.unique.description == ":unique" && Registry.Keys.duplicate.description == ":duplicate")
        #expect(Registry("r") == Registry("r") && Registry("r").description == "Registry(:r)")
    }
}
