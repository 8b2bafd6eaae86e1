import Testing

@testable import Ember

// MARK: Via names

@Suite("Registry: via names")
struct RegistryViaTests {
    struct Echo: Sendable { let text: String }

    @Test("a plain process takes a name, is found and sent to by it, and gives it up")
    func viaLifecycle() async throws {
        try await withProcess {
            let registry = Registry("reg_via")
            try await Registry.startLink(keys: .unique, name: registry.name)
            let parent = try Pid.current
            let server = spawn {
                try Registry.registerName(registry.name, "worker", try Pid.current)
                send(parent, Atom("named"))
                while true {
                    let message = try await receive { (message: any Sendable) in message }
                    if let echo = message as? Echo { send(parent, echo) }
                    if message as? Atom == "unname" {
                        try Registry.unregisterName(registry.name, "worker")
                        send(parent, Atom("unnamed"))
                    }
                    if message as? Atom == "stop" { return }
                }
            }
            _ = try await receive { (message: Atom) in message == "named" ? () : nil }
            #expect(try Registry.whereisName(registry.name, "worker") == server)
            #expect(try registry.lookup("worker", as: (any Sendable).self).map(\.pid) == [server])
            try Registry.sendName(registry.name, "worker", Echo(text: "hi"))
            #expect(try await receive(Echo.self).text == "hi")
            send(server, Atom("unname"))
            _ = try await receive { (message: Atom) in message == "unnamed" ? () : nil }
            #expect(try Registry.whereisName(registry.name, "worker") == nil)
            #expect(throws: RegistryError.notRegistered("worker")) {
                try Registry.sendName(registry.name, "worker", Echo(text: "lost"))
            }
            #expect(try Registry.whereisName(registry.name, "nobody") == nil)
            try await stopAndWait(server)
        }
    }

    @Test("a name registered with a value keeps it, and is freed when its process exits")
    func viaValueAndExit() async throws {
        try await withProcess {
            let registry = Registry("reg_via_value")
            try await Registry.startLink(keys: .unique, name: registry.name, partitions: 2)
            let named = try await member { try Registry.registerName(registry.name, "agent", try Pid.current, value: Atom("hello")) }
            #expect(try registry.lookup("agent", as: Atom.self).map(\.value) == ["hello"])
            let ref = try monitor(named)
            named.exit(.kill)
            _ = try await down(ref)
            #expect(try Registry.whereisName(registry.name, "agent") == nil)
            #expect(throws: RegistryError.notRegistered("agent")) { try Registry.sendName(registry.name, "agent", 1) }
            try Registry.registerName(registry.name, "agent", try Pid.current)
            #expect(try Registry.whereisName(registry.name, "agent") == (try Pid.current))
        }
    }

    @Test("via names refuse a taken name, another process's pid and duplicate registries")
    func viaErrors() async throws {
        try await withProcess {
            let registry = Registry("reg_via_errors")
            try await Registry.startLink(keys: .unique, name: registry.name)
            let me = try Pid.current
            try Registry.registerName(registry.name, "taken", me)
            await #expect(throws: RegistryError.alreadyRegistered(me)) {
                try await member { try Registry.registerName(registry.name, "taken", try Pid.current) }
            }
            let other = idleProcess()
            #expect(throws: RegistryError.notCaller(other)) { try Registry.registerName(registry.name, "other", other) }
            #expect(try Registry.whereisName(registry.name, "other") == nil)

            let duplicate = Registry("reg_via_duplicate")
            try await Registry.startLink(keys: .duplicate, name: duplicate.name)
            #expect(throws: RegistryError.notUnique(duplicate.name)) { try Registry.whereisName(duplicate.name, "k") }
            #expect(throws: RegistryError.notUnique(duplicate.name)) { try Registry.registerName(duplicate.name, "k", me) }
            try duplicate.register("k", 1)
            try duplicate.register("k", 2)
            #expect(throws: RegistryError.notRegistered("k")) { try Registry.sendName(duplicate.name, "k", "ambiguous") }
            send(other, Atom("stop"))
        }
    }
}
