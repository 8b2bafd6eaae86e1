// The registry's tables as pure values (tested synchronously): what
// `RegistryStorage` keeps behind its locks.

/// A registry key: any `Hashable & Sendable` value, type-erased. Keys of
/// different types are different keys, as Elixir compares keys with `===`
/// (`AnyHashable` alone would make `1`, `UInt8(1)` and `1.0` one key).
struct RegistryKey: Hashable, @unchecked Sendable, CustomStringConvertible {
    // @unchecked Sendable: `AnyHashable` is not `Sendable`, but the only
    // initializer takes a `Sendable` value, so the wrapped value always is.
    private let hashable: AnyHashable
    private let type: ObjectIdentifier

    init<Key: Hashable & Sendable>(_ key: Key) {
        if let key = key as? RegistryKey {
            self = key
        } else {
            hashable = AnyHashable(key)
            type = ObjectIdentifier(Swift.type(of: key))
        }
    }

    /// The key as it was given.
    var base: Any { hashable.base }

    var description: String { String(describing: hashable.base) }
}

/// One registration: a process under a key, with its value.
struct RegistryEntry: Sendable {
    let pid: Pid
    var value: any Sendable
    /// Unique within the registry: tells apart the registrations of one
    /// process under one key (duplicate registries), so that removing one
    /// never removes another.
    let id: UInt64
}

/// The pid side of a registration: which key, and in which partition's key
/// table the entry lives (for unique registries it is chosen by the key, so
/// it may differ from the partition of the pid).
struct PidEntry: Sendable, Equatable {
    let key: RegistryKey
    let keyPartition: Int
    let id: UInt64
}

/// Key -> registrations, for one partition. Pure, tested synchronously.
struct KeyTable {
    private(set) var entries: [RegistryKey: [RegistryEntry]] = [:]
    /// Every entry in the table, dead or alive (Elixir's `:ets.info(t, :size)`).
    private(set) var count = 0

    enum UniqueInsertion: Equatable {
        case inserted
        /// The key belongs to this live process.
        case taken(by: Pid)
    }

    /// Inserts `entry` as the only one under `key`, unless a live process
    /// holds it. A dead holder whose partition has not cleaned up yet loses
    /// its entry, as in Elixir (the key is free the moment its holder dies).
    mutating func insertUnique(_ key: RegistryKey, _ entry: RegistryEntry, isAlive: (Pid) -> Bool) -> UniqueInsertion {
        if let current = entries[key] {
            if let live = current.first(where: { isAlive($0.pid) }) { return .taken(by: live.pid) }
            count -= current.count
        }
        entries[key] = [entry]
        count += 1
        return .inserted
    }

    mutating func insertDuplicate(_ key: RegistryKey, _ entry: RegistryEntry) {
        entries[key, default: []].append(entry)
        count += 1
    }

    /// The registrations under `key`, oldest first.
    func lookup(_ key: RegistryKey) -> [RegistryEntry] { entries[key] ?? [] }

    /// Removes the entries of `pid` under `key` that satisfy `predicate`;
    /// returns them.
    mutating func remove(
        _ key: RegistryKey, pid: Pid, where predicate: (RegistryEntry) -> Bool = { _ in true }
    ) -> [RegistryEntry] {
        guard var list = entries[key] else { return [] }
        var removed: [RegistryEntry] = []
        list.removeAll { entry in
            guard entry.pid == pid, predicate(entry) else { return false }
            removed.append(entry)
            return true
        }
        store(list, under: key)
        count -= removed.count
        return removed
    }

    /// Removes the entry with this id, if it is still there.
    @discardableResult
    mutating func remove(_ key: RegistryKey, id: UInt64) -> Bool {
        guard var list = entries[key], let index = list.firstIndex(where: { $0.id == id }) else { return false }
        list.remove(at: index)
        store(list, under: key)
        count -= 1
        return true
    }

    /// Replaces the value of the entry with this id; false if it is gone.
    mutating func update(_ key: RegistryKey, id: UInt64, value: any Sendable) -> Bool {
        guard let index = entries[key]?.firstIndex(where: { $0.id == id }) else { return false }
        entries[key]?[index].value = value
        return true
    }

    private mutating func store(_ list: [RegistryEntry], under key: RegistryKey) {
        entries[key] = list.isEmpty ? nil : list
    }
}

/// Pid -> its registrations, for one partition. Pure, tested synchronously.
struct PidTable {
    private(set) var entries: [Pid: [PidEntry]] = [:]

    mutating func add(_ pid: Pid, _ entry: PidEntry) {
        entries[pid, default: []].append(entry)
    }

    /// Removes the entries of `pid` whose ids are given; returns whether
    /// `pid` still has entries here.
    mutating func remove(_ pid: Pid, ids: Set<UInt64>) -> Bool {
        guard var list = entries[pid] else { return false }
        list.removeAll { ids.contains($0.id) }
        entries[pid] = list.isEmpty ? nil : list
        return !list.isEmpty
    }

    /// Removes and returns every entry of `pid`.
    mutating func take(_ pid: Pid) -> [PidEntry] {
        entries.removeValue(forKey: pid) ?? []
    }

    func lookup(_ pid: Pid) -> [PidEntry] { entries[pid] ?? [] }
}
