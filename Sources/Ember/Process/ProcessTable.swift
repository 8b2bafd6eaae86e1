import Synchronization

/// The live local processes, by number: the BEAM's process table.
///
/// A pid's `id` names a slot — its low 6 bits the shard, the rest the
/// slot's index in the shard — and its `serial` counts the reuses of that
/// slot, so a pid is not reused before a slot has been reused 2^32 times.
/// Spawning and exiting index a slot rather than hash into a dictionary, and
/// freed slots are reused first: ids stay small and a slot costs 16 bytes.
///
/// Sharded so that spawns on different cores do not contend for one lock.
final class ProcessTable: Sendable {
    private static let shardBits: UInt32 = 6
    private static let shardMask: UInt32 = (1 << shardBits) - 1

    private let shards: [Shard] = (0...shardMask).map { Shard(index: $0) }
    /// Spreads spawns over the shards.
    private let nextShard = Atomic<UInt32>(0)
    private let live = Atomic<Int>(0)

    var count: Int { live.load(ordering: .relaxed) }

    /// Adds the process that `make` creates with the id and serial of a free slot.
    func add(_ make: (_ id: UInt32, _ serial: UInt32) -> ProcessCell) -> ProcessCell {
        let shard = shards[Int(nextShard.wrappingAdd(1, ordering: .relaxed).oldValue & Self.shardMask)]
        let cell = shard.slots.withLock { slots in
            let (index, serial) = slots.take()
            // Not reachable: 2^26 slots in each of 64 shards are 4 billion live processes.
            precondition(index >> (32 - Self.shardBits) == 0, "Ember's process table is full")
            let cell = make(UInt32(index) << Self.shardBits | shard.index, serial)
            slots.entries[index].cell = cell
            return cell
        }
        live.add(1, ordering: .relaxed)
        return cell
    }

    /// Removes an exited process.
    func remove(_ cell: ProcessCell) {
        let removed = shards[Int(cell.id & Self.shardMask)].slots.withLock {
            $0.release(index: Int(cell.id >> Self.shardBits), serial: cell.serial)
        }
        if removed { live.subtract(1, ordering: .relaxed) }
    }

    /// The live process with this id and serial, if there is one.
    func lookup(id: UInt32, serial: UInt32) -> ProcessCell? {
        shards[Int(id & Self.shardMask)].slots.withLock { slots in
            let index = Int(id >> Self.shardBits)
            guard index < slots.entries.count, slots.entries[index].serial == serial else { return nil }
            return slots.entries[index].cell
        }
    }

    /// Every live process.
    func all() -> [ProcessCell] {
        var cells: [ProcessCell] = []
        for shard in shards {
            shard.slots.withLock { cells.append(contentsOf: $0.entries.lazy.compactMap(\.cell)) }
        }
        return cells
    }
}

private final class Shard: Sendable {
    let index: UInt32
    let slots = Mutex(Slots())

    init(index: UInt32) { self.index = index }
}

/// One shard's slots. Slot 0 is never handed out, so that no process has
/// id 0 (which, with serial 0, is ``Pid/external``).
private struct Slots {
    struct Entry {
        var cell: ProcessCell?
        /// The serial of the slot's current (or, if free, last) process.
        var serial: UInt32
    }

    var entries = [Entry(cell: nil, serial: 0)]
    /// Free slots, the last freed on top: it is reused first, while still in cache.
    private var free: [UInt32] = []

    /// A free slot's index and the serial its next process gets.
    mutating func take() -> (index: Int, serial: UInt32) {
        if let index = free.popLast() {
            entries[Int(index)].serial &+= 1
            return (Int(index), entries[Int(index)].serial)
        }
        entries.append(Entry(cell: nil, serial: 0))
        return (entries.count - 1, 0)
    }

    /// Frees the slot of the process with `serial`. Returns false if that
    /// process is not in it.
    mutating func release(index: Int, serial: UInt32) -> Bool {
        guard index < entries.count, entries[index].serial == serial, entries[index].cell != nil else { return false }
        entries[index].cell = nil
        free.append(UInt32(index))
        return true
    }
}
