import Synchronization

// The registry's storage, Elixir's ETS tables: every partition has a key
// table (key -> registrations) and a pid table (pid -> where its
// registrations are). Callers read and write them directly under their locks;
// the partition processes only clean up after processes that exit.

/// One partition's tables. Two locks, never held together: a unique
/// registry keeps a registration's key entry in the key's partition and its
/// pid entry in the pid's partition.
final class RegistryPartition: Sendable {
    let keys = Mutex(KeyTable())
    let pids = Mutex(PidTable())
}

/// The tables of one registry and the operations on them. Knows nothing of
/// processes beyond `Pid.isAlive`: linking is the caller's business.
final class RegistryStorage: Sendable {
    let kind: Registry.Keys
    let partitions: [RegistryPartition]
    private let nextId = Atomic<UInt64>(1)

    init(kind: Registry.Keys, partitionCount: Int) {
        self.kind = kind
        self.partitions = (0..<max(1, partitionCount)).map { _ in RegistryPartition() }
    }

    /// Elixir's `:erlang.phash2(term, partitions)`.
    func partitionIndex(_ value: some Hashable) -> Int {
        Int(UInt(bitPattern: value.hashValue) % UInt(partitions.count))
    }

    /// Unique registries are partitioned by key, duplicate ones by pid.
    func keyPartition(_ key: RegistryKey, pid: Pid) -> Int {
        kind.isUnique ? partitionIndex(key) : partitionIndex(pid)
    }

    /// The partitions whose key tables may hold `key`.
    func keyPartitions(_ key: RegistryKey) -> [Int] {
        kind.isUnique || partitions.count == 1 ? [partitionIndex(key)] : Array(partitions.indices)
    }

    func pidPartition(_ pid: Pid) -> Int { partitionIndex(pid) }

    // MARK: Writes

    enum Insertion: Equatable {
        /// Registered with this entry id.
        case inserted(id: UInt64)
        case taken(by: Pid)
    }

    /// Adds a registration. The pid entry is written first: if the process
    /// dies in between, its partition still finds and removes the key entry.
    func insert(_ key: RegistryKey, pid: Pid, value: any Sendable) -> Insertion {
        let id = nextId.wrappingAdd(1, ordering: .relaxed).oldValue
        let keyIndex = keyPartition(key, pid: pid)
        let pidIndex = pidPartition(pid)
        partitions[pidIndex].pids.withLock { $0.add(pid, PidEntry(key: key, keyPartition: keyIndex, id: id)) }
        let entry = RegistryEntry(pid: pid, value: value, id: id)
        let outcome: KeyTable.UniqueInsertion = partitions[keyIndex].keys.withLock { table in
            guard kind.isUnique else {
                table.insertDuplicate(key, entry)
                return .inserted
            }
            return table.insertUnique(key, entry, isAlive: { $0.isAlive })
        }
        switch outcome {
        case .inserted:
            return .inserted(id: id)
        case .taken(let holder):
            _ = partitions[pidIndex].pids.withLock { $0.remove(pid, ids: [id]) }
            return .taken(by: holder)
        }
    }

    /// Removes one registration by id, both sides. Returns whether `pid`
    /// still has registrations in its pid partition.
    @discardableResult
    func remove(_ key: RegistryKey, pid: Pid, id: UInt64) -> Bool {
        partitions[keyPartition(key, pid: pid)].keys.withLock { _ = $0.remove(key, id: id) }
        return partitions[pidPartition(pid)].pids.withLock { $0.remove(pid, ids: [id]) }
    }

    /// Removes the registrations of `pid` under `key` whose value satisfies
    /// `predicate`: the key side first, so that a crash in between leaves the
    /// partition able to finish. Returns whether `pid` still has
    /// registrations in its pid partition.
    func remove(_ key: RegistryKey, pid: Pid, where predicate: (any Sendable) -> Bool = { _ in true }) -> Bool {
        let removed = partitions[keyPartition(key, pid: pid)].keys.withLock {
            $0.remove(key, pid: pid, where: { predicate($0.value) })
        }
        let ids = Set(removed.map(\.id))
        return partitions[pidPartition(pid)].pids.withLock { $0.remove(pid, ids: ids) }
    }

    /// Removes every registration of `pid`: what a partition does when a
    /// linked process exits. Only the partition of `pid` calls it.
    func removeAll(of pid: Pid) {
        let taken = partitions[pidPartition(pid)].pids.withLock { $0.take(pid) }
        for (index, group) in Dictionary(grouping: taken, by: \.keyPartition) {
            partitions[index].keys.withLock { table in
                for entry in group { table.remove(entry.key, id: entry.id) }
            }
        }
    }

    /// Replaces the value of one registration; false if it is gone.
    func update(_ key: RegistryKey, pid: Pid, id: UInt64, value: any Sendable) -> Bool {
        partitions[keyPartition(key, pid: pid)].keys.withLock { $0.update(key, id: id, value: value) }
    }

    // MARK: Reads

    /// Live registrations under `key`, partition by partition (empty
    /// partitions left out). A process that has exited is never returned,
    /// even before its partition has removed its entries.
    func lookupByPartition(_ key: RegistryKey) -> [[RegistryEntry]] {
        keyPartitions(key).compactMap { index in
            let live = partitions[index].keys.withLock { $0.lookup(key) }.filter { $0.pid.isAlive }
            return live.isEmpty ? nil : live
        }
    }

    func lookup(_ key: RegistryKey) -> [RegistryEntry] { lookupByPartition(key).flatMap { $0 } }

    /// The registrations of `pid` under `key`.
    func lookup(_ key: RegistryKey, pid: Pid) -> [RegistryEntry] {
        guard pid.isAlive else { return [] }
        return partitions[keyPartition(key, pid: pid)].keys.withLock { $0.lookup(key) }.filter { $0.pid == pid }
    }

    /// The keys `pid` is registered under, once per registration.
    func keys(of pid: Pid) -> [RegistryKey] {
        guard pid.isAlive else { return [] }
        return partitions[pidPartition(pid)].pids.withLock { $0.lookup(pid) }.map(\.key)
    }

    /// Every live registration with its key, partition by partition.
    func all() -> [(key: RegistryKey, entry: RegistryEntry)] {
        partitions.flatMap { partition in
            partition.keys.withLock { table in
                table.entries.flatMap { key, entries in entries.map { (key, $0) } }
            }
            .filter { $0.entry.pid.isAlive }
        }
    }

    /// Whether `pid` has registrations in its pid partition.
    func hasRegistrations(_ pid: Pid) -> Bool {
        partitions[pidPartition(pid)].pids.withLock { !$0.lookup(pid).isEmpty }
    }

    /// Every entry, including those of processes not yet cleaned up.
    var count: Int { partitions.reduce(0) { sum, partition in sum + partition.keys.withLock { $0.count } } }
}

/// The running registries by name: Elixir's named registry ETS table.
enum RegistryDirectory {
    private static let tables = Mutex<[Atom: RegistryTable]>([:])

    /// The registry running under `name`. A registry whose root process has
    /// died is not running, even before its entry is removed.
    static func table(named name: Atom) -> RegistryTable? {
        guard let table = tables.withLock({ $0[name] }), table.root.isAlive else { return nil }
        return table
    }

    /// Publishes `table`, replacing a dead registry of the same name.
    static func install(_ table: RegistryTable) {
        tables.withLock { $0[table.name] = table }
    }

    /// Removes `table` if it is still the one published under its name.
    static func remove(_ table: RegistryTable) {
        tables.withLock { tables in
            if tables[table.name] === table { tables[table.name] = nil }
        }
    }
}

/// A running registry: its storage, its processes and its metadata.
final class RegistryTable: Sendable {
    let name: Atom
    /// The registry's own process (Elixir's registry supervisor).
    let root: Pid
    /// The partition processes, one per partition: the owners that callers
    /// link to and that clean up after them.
    let owners: [Pid]
    let storage: RegistryStorage
    let meta: Mutex<[Atom: any Sendable]>

    init(name: Atom, root: Pid, owners: [Pid], storage: RegistryStorage, meta: [Atom: any Sendable]) {
        self.name = name
        self.root = root
        self.owners = owners
        self.storage = storage
        self.meta = Mutex(meta)
    }

    var kind: Registry.Keys { storage.kind }
}
