import Testing

@testable import Ember

// MARK: Reading

@Suite("Registry: reading")
struct RegistryReadTests {
    @Test("lookup returns pids and values, from any process or none")
    func lookup() async throws {
        let registry = Registry("reg_lookup")
        let holder = try await withProcess { () -> Pid in
            try await Registry.startLink(keys: .unique, name: registry.name)
            #expect(try registry.lookup("hello", as: String.self).isEmpty)
            try registry.register("hello", "world")
            let me = try Pid.current
            let parent = me
            spawn { send(parent, (try? registry.lookup("hello", as: String.self))?.map(\.pid) ?? []) }
            #expect(try await receive([Pid].self) == [me])
            // From outside any process, while the registry runs.
            let seen = await Task.detached { (try? registry.lookup("hello", as: String.self))?.first?.value }.value
            #expect(seen == "world")
            return me
        }
        // The starter exits: the registry goes with it.
        #expect(await eventually { !holder.isAlive && (try? registry.count()) == nil })
    }

    @Test("match and count filter registrations with a predicate on the value")
    func matchAndCount() async throws {
        try await withProcess {
            let registry = Registry("reg_match")
            try await Registry.startLink(keys: .duplicate, name: registry.name)
            let me = try Pid.current
            try registry.register("hello", (1, Atom("atom"), 1))
            try registry.register("hello", (2, Atom("atom"), 2))
            try registry.register("hello", "not a tuple")
            typealias Triple = (Int, Atom, Int)
            #expect(try registry.match("hello", as: Triple.self) { $0.0 == 1 }.map(\.value.2) == [1])
            #expect(try registry.match("hello", as: Triple.self) { $0.1 == "atom" }.count == 2)
            #expect(try registry.match("hello", as: Triple.self) { $0.0 == $0.2 }.map(\.pid) == [me, me])
            #expect(try registry.match("hello", as: Triple.self) { $0.2 > 1 }.map(\.value.0) == [2])
            #expect(try registry.match("other", as: Triple.self) { _ in true }.isEmpty)
            #expect(try registry.count() == 3)
            #expect(try registry.count(matching: "hello") == 3)
            #expect(try registry.count(matching: "other") == 0)
            #expect(try registry.count(matching: "hello", as: Triple.self) { $0.2 > 1 } == 1)
            #expect(try registry.count(matching: "hello", as: Triple.self) { _ in true } == 2)
        }
    }

    @Test("select and count(where:) read every key with a predicate on key, pid and value")
    func select() async throws {
        try await withProcess {
            let registry = Registry("reg_select")
            try await Registry.startLink(keys: .unique, name: registry.name, partitions: 3)
            let me = try Pid.current
            try registry.register("hello", 1)
            try registry.register("world", 2)
            try registry.register(Atom("atom"), 3)
            let other = try await member { try registry.register("theirs", 4) }
            let all = try registry.select(String.self, Int.self)
            #expect(all.map(\.key).sorted() == ["hello", "theirs", "world"])
            #expect(all.first { $0.key == "theirs" }?.pid == other)
            let mine = try registry.select(String.self, Int.self) { _, pid, value in pid == me && value > 1 }
            #expect(mine.map(\.key) == ["world"] && mine.map(\.value) == [2])
            #expect(try registry.select(Atom.self, (any Sendable).self).map(\.key) == ["atom"])
            #expect(try registry.count(String.self, Int.self) { key, _, _ in key.hasPrefix("h") } == 1)
            #expect(try registry.count(String.self, String.self) { _, _, _ in true } == 0)
            try await stopAndWait(other)
            #expect(try registry.select(String.self, Int.self).map(\.key).sorted() == ["hello", "world"])
            #expect(throws: RegistryError.unknownRegistry("reg_nothing")) {
                try Registry("reg_nothing").select(String.self, Int.self)
            }
        }
    }

    @Test("dispatch calls its body once per partition holding entries, never with an empty list")
    func dispatch() async throws {
        try await withProcess {
            let registry = Registry("reg_dispatch")
            try await Registry.startLink(keys: .duplicate, name: registry.name, partitions: 4)
            let parent = try Pid.current
            var members: [Pid: Int] = [:]
            for index in 0..<8 {
                let pid = spawn {
                    try registry.register("news", index)
                    send(parent, try Pid.current)
                    let text = try await receive(String.self)
                    send(parent, (try Pid.current, text))
                }
                _ = try await receive { (ready: Pid) in ready == pid ? ready : nil }
                members[pid] = index
            }
            var calls: [[(pid: Pid, value: Int)]] = []
            try registry.dispatch("news", as: Int.self) { entries in
                calls.append(entries)
                for (pid, _) in entries { send(pid, "extra!") }
            }
            let storage = try storage(registry.name)
            #expect(calls.allSatisfy { !$0.isEmpty })
            #expect(calls.count == Set(members.keys.map(storage.pidPartition)).count)
            for call in calls { #expect(Set(call.map { storage.pidPartition($0.pid) }).count == 1) }
            let dispatched = calls.flatMap { $0 }
            #expect(Dictionary(uniqueKeysWithValues: dispatched.map { ($0.pid, $0.value) }) == members)
            for _ in 0..<8 {
                let (pid, text) = try await receive((Pid, String).self)
                #expect(members[pid] != nil && text == "extra!")
            }
            var none = 0
            try registry.dispatch("nothing", as: Int.self) { _ in none += 1 }
            try registry.dispatch("news", as: String.self) { _ in none += 1 }
            #expect(none == 0)
            // The members have exited by now; the caller's own registration is dispatched.
            try registry.register("news", 99)
            struct Boom: Error {}
            #expect(throws: Boom.self) { try registry.dispatch("news", as: Int.self) { _ in throw Boom() } }
        }
    }

    @Test("dispatch on a unique key calls its body with the one holder")
    func dispatchUnique() async throws {
        try await withProcess {
            let registry = Registry("reg_dispatch_unique")
            try await Registry.startLink(keys: .unique, name: registry.name, partitions: 3)
            try registry.register("key", "value")
            var calls: [[(pid: Pid, value: String)]] = []
            try registry.dispatch("key", as: String.self) { calls.append($0) }
            #expect(calls.count == 1)
            #expect(calls.first?.map(\.pid) == [try Pid.current])
            #expect(calls.first?.map(\.value) == ["value"])
        }
    }

    @Test("keys(for:) and values(_:for:) read one process's registrations")
    func keysAndValues() async throws {
        try await withProcess {
            let registry = Registry("reg_keys_values")
            try await Registry.startLink(keys: .unique, name: registry.name)
            let me = try Pid.current
            #expect(try registry.keys(for: me, as: String.self) == [])
            #expect(try registry.values("a", for: me, as: Int.self) == [])
            try registry.register("a", 1)
            try registry.register("b", 2)
            let other = try await member { try registry.register("c", 3) }
            #expect(try registry.keys(for: me, as: String.self).sorted() == ["a", "b"])
            #expect(try registry.keys(for: other, as: String.self) == ["c"])
            #expect(try registry.values("a", for: me, as: Int.self) == [1])
            #expect(try registry.values("a", for: other, as: Int.self) == [])
            #expect(try registry.values("c", for: other, as: Int.self) == [3])
            #expect(try registry.values("a", for: me, as: String.self) == [])

            let duplicate = Registry("reg_keys_values_duplicate")
            try await Registry.startLink(keys: .duplicate, name: duplicate.name, partitions: 2)
            try duplicate.register("k", "world")
            try duplicate.register("k", "another")
            #expect(try duplicate.values("k", for: me, as: String.self).sorted() == ["another", "world"])
            #expect(try duplicate.keys(for: me, as: String.self) == ["k", "k"])
            try await stopAndWait(other)
            #expect(try registry.keys(for: other, as: String.self) == [])
        }
    }

    @Test("metadata given at start can be read, replaced and deleted")
    func metadata() async throws {
        try await withProcess {
            let registry = Registry("reg_meta")
            try await Registry.startLink(keys: .unique, name: registry.name, meta: ["custom_key": "custom_value"])
            #expect(try registry.meta("custom_key", as: String.self) == "custom_value")
            #expect(try registry.meta("custom_key", as: Int.self) == nil)
            #expect(try registry.meta("unknown_key", as: String.self) == nil)
            try registry.putMeta("custom_key", 42)
            #expect(try registry.meta("custom_key", as: Int.self) == 42)
            try registry.putMeta("tuple_key", (Atom("tuple"), "value"))
            #expect(try registry.meta("tuple_key", as: (Atom, String).self)?.1 == "value")
            try registry.deleteMeta("custom_key")
            #expect(try registry.meta("custom_key", as: Int.self) == nil)
            try registry.deleteMeta("never_set")
        }
    }
}
