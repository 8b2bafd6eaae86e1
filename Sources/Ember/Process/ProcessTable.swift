import Synchronization

/// The live local processes, by number: the BEAM's process table.
///
/// A pid's `id` names a slot — its low 6 bits the shard, the rest the
/// slot's index in the shard — and its `serial` counts the reuses of that
/// slot, so a pid is not reused before a slot has been reused 2^32 times.
/// Spawning and exiting index a slot rather than hash into a dictionary, and
/// freed slots are reused first: ids stay small and a slot costs 16 bytes.
///
/// Sharded so that spawns on different cores do not contend for one lock:
/// each scheduler thread spawns into shards of its own (see
/// `Worker.spread(over:)`), and nothing else is shared, not even a count,
/// so spawns and exits on one core leave the other core's cache lines alone.
final class ProcessTable: Sendable {
    private static let shardBits: UInt32 = 6
    private static let shardMask: UInt32 = (1 << shardBits) - 1

    private let shards = UnretainedShards(count: Int(shardMask) + 1) { Shard(index: UInt32($0)) }
    /// Spreads the spawns of threads that are not the scheduler's.
    private let nextShard = Atomic<UInt32>(0)

    /// The live processes: a sum over the shards, read one by one, so
    /// approximate while processes spawn and exit (one spawned into a shard
    /// already read is not counted; with only exits, the sum is never below
    /// the true count).
    var count: Int {
        shards.indices.reduce(0) { sum, index in sum + shards.withShard(index) { $0.slots.withLock(\.liveCount) } }
    }

    /// Adds the process that `make` creates with the id and serial of a free slot.
    func add(_ make: (_ id: UInt32, _ serial: UInt32) -> ProcessCell) -> ProcessCell {
        let spread = Worker.withCurrent { $0.spread(over: Int(Self.shardMask) + 1) }
        return shards.withShard(spread ?? Int(nextShard.wrappingAdd(1, ordering: .relaxed).oldValue & Self.shardMask)) { shard in
            shard.slots.withLock { slots in
                let (index, serial) = slots.take()
                // Not reachable: 2^26 slots in each shard are 67 million live
                // processes spawned by one thread (all of them, with 64 threads or more).
                precondition(index >> (32 - Self.shardBits) == 0, "Ember's process table is full")
                let cell = make(UInt32(index) << Self.shardBits | shard.index, serial)
                slots.entries[index].cell = cell
                return cell
            }
        }
    }

    /// Removes an exited process.
    func remove(_ cell: ProcessCell) {
        shards.withShard(Int(cell.id & Self.shardMask)) { shard in
            shard.slots.withLock { $0.release(index: Int(cell.id >> Self.shardBits), serial: cell.serial) }
        }
    }

    /// The live process with this id and serial, if there is one.
    func lookup(id: UInt32, serial: UInt32) -> ProcessCell? {
        shards.withShard(Int(id & Self.shardMask)) { shard in
            shard.slots.withLock { slots in
                let index = Int(id >> Self.shardBits)
                guard index < slots.entries.count, slots.entries[index].serial == serial else { return nil }
                return slots.entries[index].cell
            }
        }
    }

    /// Every live process.
    func all() -> [ProcessCell] {
        var cells: [ProcessCell] = []
        for index in shards.indices {
            shards.withShard(index) { shard in
                shard.slots.withLock { cells.append(contentsOf: $0.entries.lazy.compactMap(\.cell)) }
            }
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

    /// Slots in use (slot 0 never is).
    var liveCount: Int { entries.count - 1 - free.count }

    /// A free slot's index and the serial its next process gets.
    mutating func take() -> (index: Int, serial: UInt32) {
        if let index = free.popLast() {
            entries[Int(index)].serial &+= 1
            return (Int(index), entries[Int(index)].serial)
        }
        entries.append(Entry(cell: nil, serial: 0))
        return (entries.count - 1, 0)
    }

    /// Frees the slot of the process with `serial`, if that process is in it.
    mutating func release(index: Int, serial: UInt32) {
        guard index < entries.count, entries[index].serial == serial, entries[index].cell != nil else { return }
        entries[index].cell = nil
        free.append(UInt32(index))
    }
}
