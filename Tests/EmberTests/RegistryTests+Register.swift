import Testing

@testable import Ember

// MARK: Registering

@Suite("Registry: registering")
struct RegistryRegisterTests {
    @Test("a unique key names one process: registering it again fails with the holder")
    func uniqueKeys() async throws {
        try await withProcess {
            let registry = Registry("reg_unique")
            try await Registry.startLink(keys: .unique, name: registry.name)
            let me = try Pid.current
            let owner = try registry.register("a", 1)
            #expect(owner == (try owners(registry.name)[0]))
            #expect(me.info()?.links.contains(owner) == true)
            #expect(throws: RegistryError.alreadyRegistered(me)) { try registry.register("a", 2) }
            // A process whose only attempt failed is not left linked to the owner.
            await #expect(throws: RegistryError.alreadyRegistered(me)) {
                try await member { try registry.register("a", 3) }
            }
            let other = try await member { try registry.register("b", 4) }
            #expect(other.info()?.links.contains(owner) == true)
            #expect(try registry.lookup("a", as: Int.self).map(\.pid) == [me])
            #expect(try registry.lookup("a", as: Int.self).map(\.value) == [1])
            #expect(try registry.lookup("b", as: Int.self).map(\.pid) == [other])
            #expect(try registry.count() == 2)
            try await stopAndWait(other)
        }
    }

    @Test("a failed unique registration leaves its process unlinked from the owner")
    func failedRegistrationUnlinks() async throws {
        try await withProcess {
            let registry = Registry("reg_failed_unlinks")
            try await Registry.startLink(keys: .unique, name: registry.name)
            let me = try Pid.current
            try registry.register("a", 1)
            let owner = try owners(registry.name)[0]
            let parent = me
            let loser = spawn {
                do { try registry.register("a", 2) } catch { send(parent, error) }
                send(parent, try Pid.current.info()?.links ?? [])
            }
            #expect(try await receive(RegistryError.self) == .alreadyRegistered(me))
            #expect(try await receive([Pid].self).contains(owner) == false)
            _ = loser
        }
    }

    @Test("a duplicate key takes any number of registrations, from one process or many")
    func duplicateKeys() async throws {
        try await withProcess {
            let registry = Registry("reg_duplicate")
            try await Registry.startLink(keys: .duplicate, name: registry.name)
            let me = try Pid.current
            try registry.register("topic", 1)
            try registry.register("topic", 2)
            let other = try await member { try registry.register("topic", 3) }
            #expect(sortedValues(try registry.lookup("topic", as: Int.self)) == [1, 2, 3])
            #expect(try registry.lookup("topic", as: Int.self).filter { $0.pid == me }.count == 2)
            #expect(try registry.keys(for: me, as: String.self) == ["topic", "topic"])
            #expect(try registry.count() == 3)
            #expect(try registry.count(matching: "topic") == 3)
            try await stopAndWait(other)
        }
    }

    @Test("unregister removes the caller's own registrations under the key and unlinks when none remain")
    func unregister() async throws {
        try await withProcess {
            let registry = Registry("reg_unregister")
            try await Registry.startLink(keys: .duplicate, name: registry.name)
            let me = try Pid.current
            let owner = try registry.register("a", 1)
            try registry.register("a", 2)
            try registry.register("b", 3)
            let other = try await member { try registry.register("a", 4) }
            try registry.unregister("a")
            #expect(try registry.lookup("a", as: Int.self).map(\.pid) == [other])
            #expect(try registry.keys(for: me, as: String.self) == ["b"])
            #expect(me.info()?.links.contains(owner) == true)
            try registry.unregister("never registered")
            try registry.unregister("b")
            #expect(try registry.keys(for: me, as: String.self) == [])
            #expect(me.info()?.links.contains(owner) == false)
            #expect(try registry.count() == 1)
            try await stopAndWait(other)
        }
    }

    @Test("unregisterMatch removes only the caller's registrations whose value satisfies the predicate")
    func unregisterMatch() async throws {
        try await withProcess {
            let registry = Registry("reg_unregister_match")
            try await Registry.startLink(keys: .duplicate, name: registry.name)
            let me = try Pid.current
            for value in ["a", "b", "c"] { try registry.register("hello", value) }
            try registry.register("hello", 42)
            let other = try await member { try registry.register("hello", "a") }
            try registry.unregisterMatch("hello", as: String.self) { $0 == "a" }
            #expect(try registry.values("hello", for: me, as: String.self).sorted() == ["b", "c"])
            #expect(try registry.values("hello", for: me, as: Int.self) == [42])
            #expect(try registry.values("hello", for: other, as: String.self) == ["a"])
            try registry.unregisterMatch("hello", as: String.self) { _ in false }
            #expect(try registry.count(matching: "hello") == 4)
            try registry.unregisterMatch("hello", as: Int.self) { _ in true }
            #expect(try registry.keys(for: me, as: String.self) == ["hello", "hello"])

            let unique = Registry("reg_unregister_match_unique")
            try await Registry.startLink(keys: .unique, name: unique.name)
            try unique.register("hello", "world")
            try unique.unregisterMatch("hello", as: String.self) { $0 == "foo" }
            #expect(try unique.keys(for: me, as: String.self) == ["hello"])
            try unique.unregisterMatch("hello", as: String.self) { $0 == "world" }
            #expect(try unique.keys(for: me, as: String.self) == [])
            try await stopAndWait(other)
        }
    }

    @Test("updateValue changes the caller's own value and returns the new and old ones")
    func updateValue() async throws {
        try await withProcess {
            let registry = Registry("reg_update")
            try await Registry.startLink(keys: .unique, name: registry.name)
            let me = try Pid.current
            try registry.register("counter", 1)
            let result = try registry.updateValue("counter", as: Int.self) { $0 + 1 }
            #expect(result?.new == 2 && result?.old == 1)
            #expect(try registry.lookup("counter", as: Int.self).map(\.value) == [2])
            #expect(try registry.values("counter", for: me, as: Int.self) == [2])
            #expect(try registry.updateValue("counter", as: String.self) { $0 } == nil)
            #expect(try registry.updateValue("nobody's", as: Int.self) { $0 } == nil)
            let other = try await member { try registry.register("theirs", 10) }
            #expect(try registry.updateValue("theirs", as: Int.self) { $0 + 1 } == nil)
            #expect(try registry.lookup("theirs", as: Int.self).map(\.value) == [10])

            let duplicate = Registry("reg_update_duplicate")
            try await Registry.startLink(keys: .duplicate, name: duplicate.name)
            try duplicate.register("counter", 1)
            #expect(throws: RegistryError.notUnique(duplicate.name)) {
                try duplicate.updateValue("counter", as: Int.self) { $0 + 1 }
            }
            try await stopAndWait(other)
        }
    }

    @Test("keys of different types are different keys, and typed reads leave out other types")
    func typedKeys() async throws {
        try await withProcess {
            let registry = Registry("reg_typed_keys")
            try await Registry.startLink(keys: .unique, name: registry.name)
            let me = try Pid.current
            try registry.register("1", "string key")
            try registry.register(Atom("1"), "atom key")
            // Unlike AnyHashable's, and like Elixir's ===: 1, UInt8(1) and 1.0 are three keys.
            try registry.register(1, "int key")
            try registry.register(UInt8(1), "byte key")
            try registry.register(1.0, "double key")
            #expect(try registry.lookup(UInt8(1), as: String.self).map(\.value) == ["byte key"])
            #expect(try registry.lookup(1.0, as: String.self).map(\.value) == ["double key"])
            #expect(try registry.keys(for: me, as: Int.self) == [1])
            #expect(try registry.lookup("1", as: String.self).map(\.value) == ["string key"])
            #expect(try registry.lookup(Atom("1"), as: String.self).map(\.value) == ["atom key"])
            #expect(try registry.keys(for: me, as: String.self) == ["1"])
            #expect(try registry.keys(for: me, as: Atom.self) == ["1"])
            #expect(try registry.keys(for: me, as: Bool.self) == [])
            #expect(try registry.lookup("1", as: Int.self).isEmpty)
            #expect(try registry.lookup("1", as: (any Sendable).self).count == 1)
        }
    }
}
