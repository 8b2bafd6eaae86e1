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
    private let shards = UnretainedShards(count: TaskOwners.shardCount) { _ in Shard() }

    /// The shard of `task` comes from its address's bits above 2 MB: a
    /// thread allocates from an arena of its own, so the tasks spawned on
    /// one core tend to share their shards with none spawned on another,
    /// and their locks' cache lines stay with that core. (A guess about the
    /// allocator, for speed only: any shard would be as correct.)
    @inline(__always)
    private func withShard<Result>(for task: UInt, _ body: (Shard) -> Result) -> Result {
        shards.withShard(Int(truncatingIfNeeded: OwnerTable.mix(task &>> 21) &>> 58), body)
    }

    /// Records that `task` runs as `process` (until ``remove(_:)``).
    func insert(_ task: UInt, _ process: ProcessCell) {
        withShard(for: task) { shard in
            shard.lock.withLock { shard.table.insert(task, Unmanaged.passUnretained(process)) }
        }
    }

    /// Forgets `task`: its process's body is done.
    func remove(_ task: UInt) {
        withShard(for: task) { shard in shard.lock.withLock { shard.table.remove(task) } }
    }

    /// The process `task` runs as; called by `task` itself (see above).
    func process(of task: UInt) -> Unmanaged<ProcessCell>? {
        withShard(for: task) { shard in shard.lock.withLock { shard.table.find(task) } }
    }
}

/// An open-addressing hash table from task identities (never 0) to
/// processes: linear probing over a power-of-two array of entries, at most
/// three quarters full. A removal shifts the entries behind it in their
/// probe chain back into the gap (no tombstones), so a table with entries
/// coming and going, as processes start and end, is rebuilt only when it
/// grows or shrinks. A `Dictionary` would hash every key with SipHash; task
/// addresses need only be mixed.
struct OwnerTable {
    private struct Entry {
        /// The task, or `OwnerTable.empty`.
        var task: UInt
        var process: Unmanaged<ProcessCell>?
    }

    private static let empty: UInt = 0
    /// The size of a table's first slots (tests build collisions in it).
    static let smallest = 64
    /// A table of at most this many slots never shrinks.
    private static let keptSlots = 1_024

    /// Key and value side by side: a probe reads one line.
    private var entries: [Entry] = []
    private(set) var count = 0

    @inline(__always)
    static func mix(_ task: UInt) -> UInt { task &* 0x9E37_79B9_7F4A_7C15 }

    @inline(__always)
    private var mask: Int { entries.count - 1 }

    @inline(__always)
    private func home(of task: UInt) -> Int {
        Int(truncatingIfNeeded: Self.mix(task) >> 32) & mask
    }

    mutating func insert(_ task: UInt, _ process: Unmanaged<ProcessCell>) {
        if (count + 1) * 4 > entries.count * 3 { rebuild(slots: max(Self.smallest, entries.count * 2)) }
        // One probe: the task's entry, replaced, or the first empty slot.
        var slot = home(of: task)
        while entries[slot].task != Self.empty {
            if entries[slot].task == task {
                entries[slot].process = process
                return
            }
            slot = (slot + 1) & mask
        }
        entries[slot] = Entry(task: task, process: process)
        count += 1
    }

    func find(_ task: UInt) -> Unmanaged<ProcessCell>? {
        guard let slot = slot(of: task) else { return nil }
        return entries[slot].process
    }

    mutating func remove(_ task: UInt) {
        guard var gap = slot(of: task) else { return }
        // Each entry after the gap, up to the next empty slot, moves back
        // into it if the gap lies between its home and where it is: every
        // entry stays reachable from its home without crossing an empty slot.
        var next = (gap + 1) & mask
        while entries[next].task != Self.empty {
            let fromHome = (next - home(of: entries[next].task)) & mask
            if fromHome >= (next - gap) & mask {
                entries[gap] = entries[next]
                gap = next
            }
            next = (next + 1) & mask
        }
        entries[gap] = Entry(task: Self.empty, process: nil)
        count -= 1
        // Shrink once nearly empty, so that a table that held many does not
        // stay large, and to a quarter full, so that it neither grows nor
        // shrinks again soon: each resize allocates anew, and a large
        // allocation makes glibc's malloc consolidate its free lists (tens
        // of thousands of instructions), which churn would repeat. Tables
        // of a thousand slots (16 KB) stay as they are.
        if entries.count > Self.keptSlots && count * 16 < entries.count { rebuild(slots: count * 4) }
    }

    private func slot(of task: UInt) -> Int? {
        guard !entries.isEmpty else { return nil }
        var slot = home(of: task)
        while entries[slot].task != Self.empty {
            if entries[slot].task == task { return slot }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Puts an entry whose task is not in the table in the first empty slot
    /// from its home (there is one: the table is at most three quarters full).
    @inline(__always)
    private mutating func place(_ entry: Entry) {
        var slot = home(of: entry.task)
        while entries[slot].task != Self.empty { slot = (slot + 1) & mask }
        entries[slot] = entry
    }

    /// Re-places every entry into `slots` slots (rounded up to a power of two).
    private mutating func rebuild(slots: Int) {
        var size = Self.smallest
        while size < slots { size *= 2 }
        let old = entries
        entries = [Entry](repeating: Entry(task: Self.empty, process: nil), count: size)
        for entry in old where entry.task != Self.empty { place(entry) }
    }
}
