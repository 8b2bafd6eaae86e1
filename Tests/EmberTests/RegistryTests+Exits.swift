import Synchronization
import Testing

@testable import Ember

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
