/// The shards of a table that processes on every core use (the process
/// table, the task owners), held so that using one touches only its own
/// cache lines.
///
/// Each shard is retained once, here, and released when the table goes;
/// ``withShard(_:_:)`` lends it without a retain. A shard held in a plain
/// array is retained and released at each use, and its reference count is
/// then one more line that the cores pass back and forth at every process's
/// start and end.
struct UnretainedShards<Shard: AnyObject>: ~Copyable {
    private let shards: [Unmanaged<Shard>]

    init(count: Int, _ make: (Int) -> Shard) {
        shards = (0..<count).map { .passRetained(make($0)) }
    }

    deinit {
        for shard in shards { shard.release() }
    }

    var indices: Range<Int> { shards.indices }

    /// Runs `body` with shard `index`, lent: it lives as long as `self`.
    @inline(__always)
    func withShard<Result>(_ index: Int, _ body: (Shard) throws -> Result) rethrows -> Result {
        try shards[index]._withUnsafeGuaranteedRef(body)
    }
}

extension UnretainedShards: Sendable where Shard: Sendable {}
