import Synchronization
import Testing

@testable import Ember

// MARK: Helpers

/// A member's report: it has run its setup, with this outcome.
private struct Ready: Sendable {
    let pid: Pid
    let failure: (any Error)?
}

/// Spawns a process that runs `setup` (usually registering itself), reports,
/// then waits until sent `:stop`. Throws what `setup` threw (the process has
/// then exited).
private func member(
    trapping: Bool = false, _ setup: @escaping @Sendable () throws -> Void
) async throws -> Pid {
    let parent = try Pid.current
    let pid = spawn {
        try trapExits(trapping)
        var failure: (any Error)?
        do { try setup() } catch { failure = error }
        send(parent, Ready(pid: try Pid.current, failure: failure))
        if failure != nil { return }
        _ = try await receive { (message: Atom) in message == "stop" ? () : nil }
    }
    let ready = try await receive { (ready: Ready) in ready.pid == pid ? ready : nil }
    if let failure = ready.failure { throw failure }
    return pid
}

/// Stops `pid` and waits until it is gone.
private func stopAndWait(_ pid: Pid) async throws {
    let ref = try monitor(pid)
    send(pid, Atom("stop"))
    _ = try await down(ref)
}

/// The tables of a running registry.
private func storage(_ name: Atom) throws -> RegistryStorage {
    try #require(RegistryDirectory.table(named: name)).storage
}

private func owners(_ name: Atom) throws -> [Pid] {
    try #require(RegistryDirectory.table(named: name)).owners
}

/// Mismatches between the key tables and the pid tables: every registration
/// must appear on both sides, once.
private func inconsistencies(_ storage: RegistryStorage) -> [String] {
    var keySide: [UInt64: (RegistryKey, Pid, Int)] = [:]
    var problems: [String] = []
    for (index, partition) in storage.partitions.enumerated() {
        let table = partition.keys.withLock { $0 }
        var counted = 0
        for (key, entries) in table.entries {
            if storage.kind.isUnique && entries.count != 1 { problems.append("\(key) has \(entries.count) entries") }
            for entry in entries {
                keySide[entry.id] = (key, entry.pid, index)
                counted += 1
            }
        }
        if counted != table.count { problems.append("partition \(index) counts \(table.count), holds \(counted)") }
    }
    var pidSide = Set<UInt64>()
    for (index, partition) in storage.partitions.enumerated() {
        for (pid, entries) in partition.pids.withLock({ $0.entries }) {
            if storage.pidPartition(pid) != index { problems.append("\(pid) in pid partition \(index)") }
            for entry in entries {
                pidSide.insert(entry.id)
                guard let (key, owner, keyIndex) = keySide[entry.id] else {
                    problems.append("pid entry \(entry.id) of \(pid) has no key entry")
                    continue
                }
                if key != entry.key || owner != pid || keyIndex != entry.keyPartition {
                    problems.append("entry \(entry.id) differs between the tables")
                }
            }
        }
    }
    for id in keySide.keys where !pidSide.contains(id) { problems.append("key entry \(id) has no pid entry") }
    return problems
}

private func isInserted(_ insertion: RegistryStorage.Insertion) -> Bool {
    if case .inserted = insertion { return true }
    return false
}

private func sortedValues<Value: Comparable>(_ entries: [(pid: Pid, value: Value)]) -> [Value] {
    entries.map(\.value).sorted()
}

// MARK: Starting and stopping

@Suite("Registry: starting and stopping")
struct RegistryLifecycleTests {
    @Test("startLink runs a registry under its name, linked to the caller, with partitions that trap exits")
    func startLink() async throws {
        try await withProcess {
            let pid = try await Registry.startLink(keys: .unique, name: "reg_start", partitions: 3)
            #expect(whereis("reg_start") == pid)
            #expect(try Pid.current.info()?.links.contains(pid) == true)
            let owners = try owners("reg_start")
            #expect(owners.count == 3)
            for owner in owners {
                #expect(owner.info()?.trapsExits == true)
                #expect(owner.info()?.links.contains(pid) == true)
            }
            #expect(try Registry("reg_start").count() == 0)
        }
    }

    @Test("starting a registry under a taken name fails with the holder, leaving no exit message behind")
    func nameTaken() async throws {
        try await withProcess {
            try trapExits(true)
            let first = try await Registry.startLink(keys: .unique, name: "reg_taken")
            await #expect(throws: RegistryError.alreadyStarted(first)) {
                try await Registry.startLink(keys: .duplicate, name: "reg_taken")
            }
            let plain = idleProcess()
            try register(plain, as: "reg_taken_by_process")
            await #expect(throws: RegistryError.alreadyStarted(plain)) {
                try await Registry.startLink(keys: .unique, name: "reg_taken_by_process")
            }
            #expect(try Registry("reg_taken").lookup("x", as: Int.self).isEmpty)
            #expect(try await receive(ExitMessage.self, after: 0) == nil)
            send(plain, Atom("stop"))
        }
    }

    @Test("startLink rejects zero partitions, the reserved name, and callers outside a process")
    func startLinkErrors() async throws {
        await #expect(throws: RegistryError.notInProcess("Registry.startLink")) {
            try await Registry.startLink(keys: .unique, name: "reg_outside")
        }
        try await withProcess {
            await #expect(throws: RegistryError.invalidPartitions(0)) {
                try await Registry.startLink(keys: .unique, name: "reg_zero", partitions: 0)
            }
            await #expect(throws: RegistryError.reservedName("undefined")) {
                try await Registry.startLink(keys: .unique, name: "undefined")
            }
        }
        #expect(whereis("reg_outside") == nil && whereis("reg_zero") == nil)
    }

    @Test("stop withdraws the registry and frees its name for a new one")
    func stop() async throws {
        try await withProcess {
            let registry = Registry("reg_stop")
            let root = try await Registry.startLink(keys: .unique, name: registry.name)
            let owner = try owners(registry.name)[0]
            let ownerRef = try monitor(owner)
            try await registry.stop()
            #expect(!root.isAlive)
            #expect(whereis(registry.name) == nil)
            #expect(try await down(ownerRef)?.reason == .shutdown)
            #expect(throws: RegistryError.unknownRegistry(registry.name)) { try registry.count() }
            await #expect(throws: RegistryError.unknownRegistry(registry.name)) { try await registry.stop() }
            let again = try await Registry.startLink(keys: .duplicate, name: registry.name)
            #expect(again != root)
            try registry.register("k", 1)
            try registry.register("k", 2)
            #expect(try registry.count() == 2)
        }
    }

    @Test("stop works from outside a process, and the registry exits with the reason given")
    func stopReason() async throws {
        try await withProcess {
            try trapExits(true)
            let root = try await Registry.startLink(keys: .unique, name: "reg_stop_reason")
            try await Task.detached { try await Registry("reg_stop_reason").stop(.shutdown) }.value
            #expect(try await exitMessage(from: root)?.reason == .shutdown)
            #expect(whereis("reg_stop_reason") == nil)
        }
    }

    @Test("a registry stops with the process that started it")
    func stopsWithStarter() async throws {
        try await withProcess {
            let parent = try Pid.current
            let starter = spawn {
                send(parent, try await Registry.startLink(keys: .unique, name: "reg_starter"))
                _ = try await receive { (message: Atom) in message == "stop" ? () : nil }
            }
            let root = try await receive(Pid.self)
            let ref = try monitor(root)
            send(starter, Atom("stop"))
            #expect(try await down(ref)?.reason == .normal)
            #expect(whereis("reg_starter") == nil)
            #expect(throws: RegistryError.unknownRegistry("reg_starter")) { try Registry("reg_starter").count() }
        }
    }

    @Test("a registry whose partition dies stops, and its starter receives the exit")
    func partitionDeath() async throws {
        try await withProcess {
            try trapExits(true)
            let root = try await Registry.startLink(keys: .duplicate, name: "reg_partition_death", partitions: 2)
            let ref = try monitor(root)
            try owners("reg_partition_death")[1].exit(.kill)
            #expect(try await down(ref)?.reason == .killed)
            #expect(try await exitMessage(from: root)?.reason == .killed)
            #expect(throws: RegistryError.unknownRegistry("reg_partition_death")) {
                try Registry("reg_partition_death").lookup("k", as: Int.self)
            }
        }
    }

    @Test("a registered process is linked to its partition: the registry's stop reaches it")
    func stopReachesRegistrants() async throws {
        try await withProcess {
            let registry = Registry("reg_stop_links")
            try await Registry.startLink(keys: .unique, name: registry.name)
            let plain = try await member { try registry.register("plain", 1) }
            let parent = try Pid.current
            let trapping = spawn {
                try trapExits(true)
                let owner = try registry.register("trapping", 2)
                send(parent, owner)
                send(parent, try await receive { (exit: ExitMessage) in exit.from == owner ? exit : nil })
            }
            let owner = try await receive(Pid.self)
            let plainRef = try monitor(plain)
            try await registry.stop()
            #expect(try await down(plainRef)?.reason == .shutdown)
            #expect(try await receive(ExitMessage.self, after: 10_000) == ExitMessage(from: owner, reason: .shutdown))
            _ = trapping
        }
    }
}

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

// MARK: Exits, partitions, races

@Suite("Registry: exits and partitions")
struct RegistryExitTests {
    @Test(
        "a process's registrations are removed when it exits",
        arguments: [(Registry.Keys.unique, 1), (.unique, 3), (.duplicate, 1), (.duplicate, 3)])
    func removedOnExit(keys: Registry.Keys, partitions: Int) async throws {
        try await withProcess {
            let registry = Registry(Atom("reg_exit_\(keys.isUnique ? "unique" : "duplicate")_\(partitions)"))
            try await Registry.startLink(keys: keys, name: registry.name, partitions: partitions)
            let me = try Pid.current
            try registry.register("mine", 0)
            for reason in [ExitReason.normal, .shutdown, .kill] {
                let pid = try await member {
                    for index in 0..<10 { try registry.register("key\(index)", index) }
                    try registry.register("shared", 1)
                }
                #expect(try registry.keys(for: pid, as: String.self).count == 11)
                let ref = try monitor(pid)
                if reason == .normal { send(pid, Atom("stop")) } else { pid.exit(reason) }
                _ = try await down(ref)
                // Right after the DOWN, whether or not the partition has cleaned up yet.
                #expect(try registry.lookup("key3", as: Int.self).isEmpty)
                #expect(try registry.lookup("shared", as: Int.self).isEmpty)
                #expect(try registry.keys(for: pid, as: String.self) == [])
                #expect(try registry.values("key3", for: pid, as: Int.self) == [])
                #expect(try registry.count(matching: "shared") == 0)
                #expect(await eventually { (try? registry.count()) == 1 })
            }
            #expect(try registry.lookup("mine", as: Int.self).map(\.pid) == [me])
            #expect(inconsistencies(try storage(registry.name)) == [])
        }
    }

    @Test("a process that has exited is never read, even before its partition has cleaned up")
    func deadEntriesInvisible() async throws {
        try await withProcess {
            let registry = Registry("reg_dead_invisible")
            try await Registry.startLink(keys: .unique, name: registry.name, partitions: 2)
            let dead = spawn {}
            #expect(await eventually { !dead.isAlive })
            // A registration no partition knows of, as if its cleanup were late.
            let storage = try storage(registry.name)
            #expect(isInserted(storage.insert(RegistryKey("ghost"), pid: dead, value: 1)))
            #expect(try registry.count() == 1)
            #expect(try registry.lookup("ghost", as: Int.self).isEmpty)
            #expect(try registry.count(matching: "ghost") == 0)
            #expect(try registry.keys(for: dead, as: String.self) == [])
            #expect(try registry.values("ghost", for: dead, as: Int.self) == [])
            #expect(try Registry.whereisName(registry.name, "ghost") == nil)
            var called = false
            try registry.dispatch("ghost", as: Int.self) { _ in called = true }
            #expect(!called)
            // The key is free: a live process takes it over at once.
            try registry.register("ghost", 2)
            #expect(try registry.lookup("ghost", as: Int.self).map(\.value) == [2])
            #expect(try registry.count() == 1)
        }
    }

    @Test("a process killed before it registers leaves no registration behind")
    func killedWhileRegistering() async throws {
        try await withProcess {
            let registry = Registry("reg_killed_registering")
            try await Registry.startLink(keys: .duplicate, name: registry.name)
            let finished = Atomic<Bool>(false)
            let ghost = spawn {
                // Dead for everyone at once; its code runs on to its next suspension point.
                try Pid.current.exit(.kill)
                _ = try? registry.register("ghost", 1)
                finished.store(true, ordering: .releasing)
            }
            #expect(await eventually { finished.load(ordering: .acquiring) })
            #expect(!ghost.isAlive)
            #expect(try registry.count() == 0)
            #expect(inconsistencies(try storage(registry.name)) == [])
            #expect(try storage(registry.name).partitions[0].pids.withLock { $0.entries.isEmpty })
        }
    }

    @Test("partitions spread unique keys by key and duplicate registrations by pid")
    func partitioning() async throws {
        try await withProcess {
            let me = try Pid.current
            let unique = Registry("reg_partitions_unique")
            try await Registry.startLink(keys: .unique, name: unique.name, partitions: 4)
            let uniqueStorage = try storage(unique.name)
            let owner = try unique.register("key0", 0)
            #expect(owner == (try owners(unique.name))[uniqueStorage.pidPartition(me)])
            for index in 1..<40 { try unique.register("key\(index)", index) }
            for index in 0..<40 {
                let key = RegistryKey("key\(index)")
                let home = uniqueStorage.partitionIndex(key)
                #expect(uniqueStorage.partitions[home].keys.withLock { $0.lookup(key).count } == 1)
                #expect(try unique.lookup("key\(index)", as: Int.self).map(\.value) == [index])
            }
            let used = Set((0..<40).map { uniqueStorage.partitionIndex(RegistryKey("key\($0)")) })
            #expect(used.count > 1)
            #expect(try unique.count() == 40)
            #expect(try unique.keys(for: me, as: String.self).count == 40)
            #expect(uniqueStorage.partitions[uniqueStorage.pidPartition(me)].pids.withLock { $0.lookup(me).count } == 40)

            let duplicate = Registry("reg_partitions_duplicate")
            try await Registry.startLink(keys: .duplicate, name: duplicate.name, partitions: 4)
            let duplicateStorage = try storage(duplicate.name)
            var members: [Pid] = []
            for index in 0..<12 { members.append(try await member { try duplicate.register("k", index) }) }
            for pid in members {
                let home = duplicateStorage.pidPartition(pid)
                let here = duplicateStorage.partitions[home].keys.withLock { $0.lookup(RegistryKey("k")) }
                #expect(here.contains { $0.pid == pid })
                #expect(pid.info()?.links.contains(try owners(duplicate.name)[home]) == true)
            }
            #expect(Set(members.map(duplicateStorage.pidPartition)).count > 1)
            #expect(sortedValues(try duplicate.lookup("k", as: Int.self)) == Array(0..<12))
            #expect(try duplicate.count() == 12)
            for pid in members { try await stopAndWait(pid) }
            #expect(try duplicate.lookup("k", as: Int.self).isEmpty)
            #expect(await eventually { (try? duplicate.count()) == 0 })
            #expect(inconsistencies(uniqueStorage) == [] && inconsistencies(duplicateStorage) == [])
        }
    }

    @Test("processes racing for one unique key: exactly one wins, the others are told who")
    func uniqueRace() async throws {
        try await withProcess {
            let registry = Registry("reg_race")
            try await Registry.startLink(keys: .unique, name: registry.name, partitions: 2)
            let parent = try Pid.current
            struct Outcome: Sendable { let pid: Pid; let failure: RegistryError? }
            var racers: [Pid] = []
            for _ in 0..<50 {
                racers.append(spawn {
                    _ = try await receive { (message: Atom) in message == "go" ? () : nil }
                    var failure: RegistryError?
                    let me = try Pid.current
                    do { try registry.register("hot", me) } catch { failure = error as? RegistryError }
                    send(parent, Outcome(pid: try Pid.current, failure: failure))
                    _ = try await receive { (message: Atom) in message == "stop" ? () : nil }
                })
            }
            for racer in racers { send(racer, Atom("go")) }
            var outcomes: [Outcome] = []
            for _ in racers { outcomes.append(try await receive(Outcome.self)) }
            let winners = outcomes.filter { $0.failure == nil }.map(\.pid)
            #expect(winners.count == 1)
            let winner = try #require(winners.first)
            #expect(outcomes.filter { $0.failure != nil }.allSatisfy { $0.failure == .alreadyRegistered(winner) })
            #expect(try registry.lookup("hot", as: Pid.self).map(\.value) == [winner])
            for racer in racers { try await stopAndWait(racer) }
            #expect(try registry.lookup("hot", as: Pid.self).isEmpty)
        }
    }

    @Test("processes registering, unregistering and exiting concurrently leave the tables consistent")
    func concurrentConsistency() async throws {
        try await withProcess {
            let unique = Registry("reg_concurrent_unique")
            let duplicate = Registry("reg_concurrent_duplicate")
            try await Registry.startLink(keys: .unique, name: unique.name, partitions: 4)
            try await Registry.startLink(keys: .duplicate, name: duplicate.name, partitions: 4)
            let parent = try Pid.current
            struct Finished: Sendable { let pid: Pid; let keys: [String]; let shared: Int }
            let workers = 100
            var pids: [Pid] = []
            for worker in 0..<workers {
                pids.append(spawn {
                    var mine: [String] = []
                    var shared = 0
                    for round in 0..<20 {
                        let key = "w\(worker)-\(round)"
                        try unique.register(key, round)
                        mine.append(key)
                        try duplicate.register("shared", worker)
                        shared += 1
                        // Contended keys: taken and given back by whoever gets them.
                        if (try? unique.register("hot\(round % 5)", worker)) != nil, round % 2 == 0 {
                            try unique.unregister("hot\(round % 5)")
                        }
                        if round % 3 == 0 {
                            try unique.unregister(mine.removeFirst())
                            try duplicate.unregister("shared")
                            shared = 0
                        }
                        await yieldNow()
                    }
                    try unique.unregisterMatch("hot0", as: Int.self) { _ in true }
                    send(parent, Finished(pid: try Pid.current, keys: mine, shared: shared))
                    // A third exit normally, a third crash, a third stay.
                    switch worker % 3 {
                    case 0: return
                    case 1: throw ExitReason("crash")
                    default: _ = try await receive { (message: Atom) in message == "stop" ? () : nil }
                    }
                })
            }
            var finished: [Pid: Finished] = [:]
            for _ in 0..<workers {
                let report = try await receive(Finished.self)
                finished[report.pid] = report
            }
            let survivors = pids.enumerated().filter { $0.offset % 3 == 2 }.map(\.element)
            #expect(await eventually { pids.allSatisfy { survivors.contains($0) || !$0.isAlive } })
            for pid in survivors {
                let report = try #require(finished[pid])
                let keys = try unique.keys(for: pid, as: String.self).filter { !$0.hasPrefix("hot") }
                #expect(keys.sorted() == report.keys.sorted())
                #expect(try duplicate.values("shared", for: pid, as: Int.self).count == report.shared)
            }
            let expectedUnique = survivors.reduce(0) { $0 + (finished[$1]?.keys.count ?? 0) }
            let expectedShared = survivors.reduce(0) { $0 + (finished[$1]?.shared ?? 0) }
            #expect(await eventually {
                let hot = (0..<5).reduce(0) { $0 + ((try? unique.count(matching: "hot\($1)")) ?? 0) }
                return (try? unique.count()) == expectedUnique + hot && (try? duplicate.count()) == expectedShared
            })
            #expect(try duplicate.count(matching: "shared") == expectedShared)
            #expect(inconsistencies(try storage(unique.name)) == [])
            #expect(inconsistencies(try storage(duplicate.name)) == [])
            for pid in survivors { try await stopAndWait(pid) }
            #expect(await eventually { (try? unique.count()) == 0 && (try? duplicate.count()) == 0 })
            #expect(inconsistencies(try storage(unique.name)) == [])
        }
    }
}

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

// MARK: The tables, synchronously

@Suite("Registry: tables")
struct RegistryTableTests {
    let alive = Pid(node: 0, id: 901, serial: 0, creation: 0)
    let dead = Pid(node: 0, id: 902, serial: 0, creation: 0)

    @Test("a unique key table refuses a live holder's key and replaces a dead holder's entry")
    func uniqueInsertion() {
        var table = KeyTable()
        let key = RegistryKey("k")
        let isAlive = { (pid: Pid) in pid == self.alive }
        let first = table.insertUnique(key, RegistryEntry(pid: dead, value: 1, id: 1), isAlive: isAlive)
        let second = table.insertUnique(key, RegistryEntry(pid: alive, value: 2, id: 2), isAlive: isAlive)
        #expect(first == .inserted && second == .inserted)
        #expect(table.lookup(key).map(\.id) == [2])
        #expect(table.count == 1)
        let third = table.insertUnique(key, RegistryEntry(pid: dead, value: 3, id: 3), isAlive: isAlive)
        #expect(third == .taken(by: alive))
        #expect(table.count == 1)
        // The dead holder's late cleanup removes nothing of the new holder's.
        let lateById = table.remove(key, id: 1)
        let lateByPid = table.remove(key, pid: dead)
        #expect(!lateById && lateByPid.isEmpty)
        #expect(table.lookup(key).map(\.pid) == [alive])
    }

    @Test("a duplicate key table removes exactly the registrations asked for")
    func duplicateRemoval() {
        var table = KeyTable()
        let key = RegistryKey("k")
        for id in UInt64(1)...3 { table.insertDuplicate(key, RegistryEntry(pid: alive, value: Int(id), id: id)) }
        table.insertDuplicate(key, RegistryEntry(pid: dead, value: 4, id: 4))
        #expect(table.count == 4)
        let byId = table.remove(key, id: 2)
        #expect(byId && table.lookup(key).map(\.id) == [1, 3, 4])
        let matching = table.remove(key, pid: alive, where: { $0.value as? Int == 3 })
        #expect(matching.map(\.id) == [3])
        let updated = table.update(key, id: 1, value: 10)
        #expect(updated && table.lookup(key).first?.value as? Int == 10)
        let updatedGone = table.update(key, id: 2, value: 0)
        #expect(!updatedGone)
        let alives = table.remove(key, pid: alive)
        let deads = table.remove(key, pid: dead)
        #expect(alives.map(\.id) == [1] && deads.map(\.id) == [4])
        #expect(table.count == 0)
        #expect(table.entries.isEmpty)
    }

    @Test("a pid table says whether a process keeps registrations after a removal")
    func pidTable() {
        var table = PidTable()
        table.add(alive, PidEntry(key: RegistryKey("a"), keyPartition: 0, id: 1))
        table.add(alive, PidEntry(key: RegistryKey("b"), keyPartition: 1, id: 2))
        let keepsOne = table.remove(alive, ids: [1])
        #expect(keepsOne && table.lookup(alive).map(\.id) == [2])
        let keepsNone = table.remove(alive, ids: [2])
        #expect(!keepsNone && table.entries.isEmpty)
        let unknown = table.remove(dead, ids: [1])
        #expect(!unknown)
        table.add(dead, PidEntry(key: RegistryKey("c"), keyPartition: 0, id: 3))
        let taken = table.take(dead)
        let again = table.take(dead)
        #expect(taken.map(\.key) == [RegistryKey("c")] && again.isEmpty)
    }

    @Test("a storage refusing a unique registration takes back its pid entry")
    func storageRollback() async throws {
        try await withProcess {
            let storage = RegistryStorage(kind: .unique, partitionCount: 3)
            let me = try Pid.current
            let other = idleProcess()
            #expect(isInserted(storage.insert(RegistryKey("k"), pid: me, value: 1)))
            #expect(storage.insert(RegistryKey("k"), pid: other, value: 2) == .taken(by: me))
            #expect(!storage.hasRegistrations(other))
            #expect(storage.hasRegistrations(me))
            #expect(storage.count == 1)
            #expect(inconsistencies(storage) == [])
            storage.removeAll(of: me)
            #expect(storage.count == 0 && !storage.hasRegistrations(me))
            #expect(inconsistencies(storage) == [])
            send(other, Atom("stop"))
        }
    }
}
