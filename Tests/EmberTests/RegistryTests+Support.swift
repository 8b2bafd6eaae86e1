import Testing

@testable import Ember

// Helpers shared by the Registry suites (RegistryTests+*.swift).

/// A member's report: it has run its setup, with this outcome.
struct MemberReady: Sendable {
    let pid: Pid
    let failure: (any Error)?
}

/// Spawns a process that runs `setup` (usually registering itself), reports,
/// then waits until sent `:stop`. Throws what `setup` threw (the process has
/// then exited).
func member(
    trapping: Bool = false, _ setup: @escaping @Sendable () throws -> Void
) async throws -> Pid {
    let parent = try Pid.current
    let pid = spawn {
        try trapExits(trapping)
        var failure: (any Error)?
        do { try setup() } catch { failure = error }
        send(parent, MemberReady(pid: try Pid.current, failure: failure))
        if failure != nil { return }
        _ = try await receive { (message: Atom) in message == "stop" ? () : nil }
    }
    let ready = try await receive { (ready: MemberReady) in ready.pid == pid ? ready : nil }
    if let failure = ready.failure { throw failure }
    return pid
}

/// Stops `pid` and waits until it is gone.
func stopAndWait(_ pid: Pid) async throws {
    let ref = try monitor(pid)
    send(pid, Atom("stop"))
    _ = try await down(ref)
}

/// The tables of a running registry.
func storage(_ name: Atom) throws -> RegistryStorage {
    try #require(RegistryDirectory.table(named: name)).storage
}

func owners(_ name: Atom) throws -> [Pid] {
    try #require(RegistryDirectory.table(named: name)).owners
}

/// Mismatches between the key tables and the pid tables: every registration
/// must appear on both sides, once.
func inconsistencies(_ storage: RegistryStorage) -> [String] {
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

func isInserted(_ insertion: RegistryStorage.Insertion) -> Bool {
    if case .inserted = insertion { return true }
    return false
}

func sortedValues<Value: Comparable>(_ entries: [(pid: Pid, value: Value)]) -> [Value] {
    entries.map(\.value).sorted()
}
