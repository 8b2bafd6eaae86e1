import Testing

@testable import Ember

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
