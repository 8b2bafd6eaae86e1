/// The messages sent to a process that it has not taken yet, oldest first,
/// in segments of at most ``segmentCapacity`` envelopes: the shared half of
/// its mailbox, kept in ``ProcessState`` under the process's lock.
///
/// Segments, not one array, so that a flood of messages (many senders to one
/// process that cannot keep up) never grows one contiguous buffer by doubling:
/// each doubling would copy the whole backlog and fault in fresh pages while
/// the senders wait on the lock, and a buffer past glibc's mmap threshold
/// (128 KB) is unmapped when freed, to be faulted in again. The receiver
/// takes one segment at a time (see ``takeOldest(leaving:)``).
struct IncomingQueue {
    /// 2,048 envelopes of 24 bytes: 48 KB, under glibc's mmap threshold.
    static let segmentCapacity = 2_048

    /// The segment senders append to. Not empty whenever `filled` is not:
    /// a full segment moves to `filled` only as the next message arrives.
    private var newest = ContiguousArray<Envelope>()
    /// Full segments, oldest first (empty unless a backlog built up).
    private var filled = ContiguousArray<ContiguousArray<Envelope>>()

    var isEmpty: Bool { newest.isEmpty }

    /// Every message queued, for ``Pid/info()``: a sum over the segments.
    var count: Int { filled.reduce(newest.count) { $0 + $1.count } }

    mutating func append(_ envelope: consuming Envelope) {
        if newest.count == Self.segmentCapacity { startSegment() }
        newest.append(envelope)
    }

    /// Moves the full newest segment behind the others and starts the next
    /// at full capacity: a flow that filled one segment will fill the next.
    @inline(never)
    private mutating func startSegment() {
        var next = ContiguousArray<Envelope>()
        next.reserveCapacity(Self.segmentCapacity)
        swap(&next, &newest)
        filled.append(next)
    }

    /// Takes the oldest segment, and whether more remain. When that is the
    /// newest one, `spare` (an empty buffer the receiver is done with) takes
    /// its place, so a steady flow of messages allocates nothing.
    mutating func takeOldest(
        leaving spare: consuming ContiguousArray<Envelope>
    ) -> (messages: ContiguousArray<Envelope>, more: Bool)? {
        if newest.isEmpty { return nil }
        guard filled.isEmpty else { return (filled.removeFirst(), true) }
        var taken = spare
        swap(&taken, &newest)
        return (taken, false)
    }

    /// Takes every message, oldest first, in one array: for a flush, which
    /// takes what is there now and no more.
    mutating func takeAll() -> ContiguousArray<Envelope> {
        guard !filled.isEmpty else {
            defer { newest = [] }
            return newest
        }
        var all = ContiguousArray<Envelope>()
        all.reserveCapacity(count)
        for segment in filled { all.append(contentsOf: segment) }
        all.append(contentsOf: newest)
        removeAll()
        return all
    }

    /// Removes the messages that satisfy `predicate`, in every segment.
    mutating func removeAll(where predicate: (any Sendable) -> Bool) {
        for index in filled.indices { filled[index].removeAll { predicate($0.message) } }
        filled.removeAll { $0.isEmpty }
        newest.removeAll { predicate($0.message) }
        // Keep the rule that `newest` holds a message whenever `filled` does.
        if newest.isEmpty, !filled.isEmpty { newest = filled.removeLast() }
    }

    /// Drops every message and the buffers.
    mutating func removeAll() {
        newest = []
        filled = []
    }
}
