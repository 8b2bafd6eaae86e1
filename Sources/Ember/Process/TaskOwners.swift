/// Which process each running process task belongs to: the Swift task's
/// identity to its process, for the lookups of ``ProcessCell/current`` that
/// the worker's note of the running process cannot answer (the first one
/// after a process resumes from an await that is not Ember's).
///
/// A task-local would carry the same fact, but the Swift runtime copies every
/// task-local of the spawning task into each new task (deduplicating keys in a
/// tree it allocates) and destroys them when the task ends: a fifth of the
/// cost of a spawn. An entry here is two words in one of a few locked shards.
///
/// An entry exists only while its task runs the process's body (see
/// ``ProcessCell/run(_:)``), and a lookup is made by the running task for its
/// own identity, which no other live task has: so an entry found is the
/// running task's, and its process is alive (the task holds it). Entries are
/// not retained.
final class TaskOwners: @unchecked Sendable {
    // @unchecked Sendable: each shard's table is touched only under that
    // shard's lock.
    private final class Shard: @unchecked Sendable {
        let lock = FutexLock()
        @exclusivity(unchecked) var table = OwnerTable()
    }

    private static let shardCount = 64
    private let shards: [Shard] = (0..<TaskOwners.shardCount).map { _ in Shard() }

    @inline(__always)
    private func shard(for task: UInt) -> Shard {
        shards[Int(truncatingIfNeeded: OwnerTable.mix(task) >> 58)]
    }

    /// Records that `task` runs as `process` (until ``remove(_:)``).
    func insert(_ task: UInt, _ process: ProcessCell) {
        let shard = shard(for: task)
        shard.lock.withLock { shard.table.insert(task, Unmanaged.passUnretained(process)) }
    }

    /// Forgets `task`: its process's body is done.
    func remove(_ task: UInt) {
        let shard = shard(for: task)
        shard.lock.withLock { shard.table.remove(task) }
    }

    /// The process `task` runs as; called by `task` itself (see above).
    func process(of task: UInt) -> Unmanaged<ProcessCell>? {
        let shard = shard(for: task)
        return shard.lock.withLock { shard.table.find(task) }
    }
}

/// An open-addressing hash table from task identities (never 0) to
/// processes: linear probing over a power-of-two array, at most three
/// quarters full, removed entries left as tombstones until the table is
/// rebuilt. A `Dictionary` would hash every key with SipHash; task addresses
/// need only be mixed.
struct OwnerTable {
    private static let empty: UInt = 0
    private static let removed: UInt = 1  // no task is at address 1

    private var keys: [UInt] = []
    private var values: [Unmanaged<ProcessCell>?] = []
    private(set) var count = 0
    /// Slots holding an entry or a tombstone.
    private var used = 0

    @inline(__always)
    static func mix(_ task: UInt) -> UInt { task &* 0x9E37_79B9_7F4A_7C15 }

    @inline(__always)
    private func firstSlot(for task: UInt) -> Int {
        Int(truncatingIfNeeded: Self.mix(task) >> 32) & (keys.count - 1)
    }

    mutating func insert(_ task: UInt, _ process: Unmanaged<ProcessCell>) {
        if let existing = slot(of: task) {
            values[existing] = process
            return
        }
        // At most three quarters full (entries and tombstones): probes stay short.
        if (used + 1) * 4 > keys.count * 3 { rebuild(capacity: max(16, (count + 1) * 2)) }
        var slot = firstSlot(for: task)
        // Not there (looked above): the first free slot, empty or a tombstone.
        while keys[slot] != Self.empty && keys[slot] != Self.removed {
            slot = (slot + 1) & (keys.count - 1)
        }
        if keys[slot] == Self.empty { used += 1 }
        count += 1
        keys[slot] = task
        values[slot] = process
    }

    func find(_ task: UInt) -> Unmanaged<ProcessCell>? {
        guard let slot = slot(of: task) else { return nil }
        return values[slot]
    }

    mutating func remove(_ task: UInt) {
        guard let slot = slot(of: task) else { return }
        keys[slot] = Self.removed
        values[slot] = nil
        count -= 1
        // Shrink once mostly empty, so a table that held many does not stay large.
        if keys.count > 64 && count * 8 < keys.count { rebuild(capacity: max(16, count * 2)) }
    }

    private func slot(of task: UInt) -> Int? {
        guard !keys.isEmpty else { return nil }
        var slot = firstSlot(for: task)
        while keys[slot] != Self.empty {
            if keys[slot] == task { return slot }
            slot = (slot + 1) & (keys.count - 1)
        }
        return nil
    }

    /// Re-inserts every entry into `capacity` slots (rounded up to a power of two).
    private mutating func rebuild(capacity: Int) {
        var size = 16
        while size < capacity { size *= 2 }
        let (oldKeys, oldValues) = (keys, values)
        keys = [UInt](repeating: Self.empty, count: size)
        values = [Unmanaged<ProcessCell>?](repeating: nil, count: size)
        count = 0
        used = 0
        for (key, value) in zip(oldKeys, oldValues) where key != Self.empty && key != Self.removed {
            if let value { insert(key, value) }
        }
    }
}
