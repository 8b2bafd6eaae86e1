/// Messages in arrival order, in one contiguous array with cheap removal at
/// the front: the part of a mailbox that a selective receive scans. Being
/// contiguous, it is scanned through a pointer, reading each envelope in place
/// rather than copying (and so retaining and releasing) it.
struct MessageBuffer {
    /// Live messages are `slots[head...]`; the slots before `head` were
    /// consumed and hold a placeholder until the array is compacted.
    private var slots: ContiguousArray<Envelope>
    private var head: Int {
        get { Int(packedHead) }
        set { packedHead = Int32(newValue) }
    }
    /// The oldest `count` messages are all of types that a receive for
    /// `wanted` rules out (see ``CastFilter``): the next receive for the same
    /// type starts after them. Only types are remembered, never values, so
    /// the prefix stays true until a message in it is removed.
    private var excludedPrefix: (wanted: ObjectIdentifier?, count: Int) {
        get { (excludedType, Int(excludedCount)) }
        set { (excludedType, excludedCount) = (newValue.wanted, Int32(newValue.count)) }
    }

    // Stored in 24 bytes rather than 32 (every process keeps a buffer): a
    // mailbox never holds 2^31 messages (they would take 80 GB).
    private var excludedType: ObjectIdentifier?
    private var packedHead: Int32 = 0
    private var excludedCount: Int32 = 0

    init(_ slots: ContiguousArray<Envelope> = []) {
        self.slots = slots
    }

    var count: Int { slots.count - head }
    /// The slots held, the consumed ones not yet dropped included.
    var slotCount: Int { slots.count }
    var isEmpty: Bool { head == slots.count }

    mutating func append(_ envelope: Envelope) {
        compactIfHalfConsumed()
        slots.append(envelope)
    }

    mutating func append(contentsOf envelopes: ContiguousArray<Envelope>) {
        compactIfHalfConsumed()
        slots.append(contentsOf: envelopes)
    }

    /// Drops the consumed slots once they are half of the array (and at
    /// least 32), before it grows: so a buffer fed as it is drained stays
    /// within twice its live messages (or 32 slots more), while one that is
    /// only drained is never shifted (it is emptied, keeping its capacity,
    /// as its last message goes).
    private mutating func compactIfHalfConsumed() {
        if head >= 32 && head * 2 >= slots.count {
            slots.removeFirst(head)
            head = 0
        }
    }

    /// The position (0 for the oldest message) of the first message at or
    /// after position `start` that `accept` takes. Messages that `filter`
    /// rules out by their type are passed over without calling `accept`.
    mutating func firstPosition(
        from start: Int, filter: inout CastFilter, where accept: (Envelope) throws -> Bool
    ) rethrows -> Int? {
        var prefix = excludedPrefix.wanted == filter.wanted ? excludedPrefix : (filter.wanted, 0)
        defer { excludedPrefix = prefix }
        return try slots.withUnsafeBufferPointer { envelopes in
            guard let base = envelopes.baseAddress else { return nil }
            var index = head + max(start, prefix.count)
            // Fields are read through the pointer, in place: copying an
            // envelope would retain and release its message.
            while index < envelopes.count {
                if filter.mayMatch(base[index].type) {
                    if try accept(base[index]) { return index - head }
                } else if index - head == prefix.count {
                    prefix.count += 1
                }
                index += 1
            }
            return nil
        }
    }

    /// Offers the oldest message to `accept` if it was sent as exactly
    /// `type`: what `accept` answered (the message stays in the buffer), nil
    /// if it was not offered (the buffer is empty, or the type differs).
    /// Mutating though it changes nothing: called on a buffer stored in a
    /// class, a non-mutating method would get a copy, retaining the storage.
    mutating func oldest(ofType type: any Any.Type, isAcceptedBy accept: (Envelope) throws -> Bool) rethrows -> Bool? {
        try slots.withUnsafeBufferPointer { envelopes in
            // Read in place: a copy would retain and release the message.
            guard head < envelopes.count, let base = envelopes.baseAddress,
                  ObjectIdentifier(base[head].type) == ObjectIdentifier(type) else { return nil }
            return try accept(base[head])
        }
    }

    /// Removes the message at `position`.
    mutating func remove(at position: Int) {
        if position < excludedPrefix.count { excludedPrefix.count -= 1 }
        guard position == 0 else {
            slots.remove(at: head + position)
            return
        }
        if head + 1 == slots.count {
            // The last one: empty the array, keeping its capacity.
            slots.removeLast()
            if head > 0 {
                slots.removeAll(keepingCapacity: true)
                head = 0
            }
            return
        }
        // Dropping the oldest: overwrite a boxed one (releasing the message
        // at once) and move on; a plain one holds nothing to release, and is
        // left as it is. The array is shifted as it is appended to.
        if slots[head].letter != nil { slots[head] = Self.consumed }
        head += 1
    }

    /// Removes and returns the oldest message. The buffer must not be empty.
    mutating func removeFirst() -> Envelope {
        let message = slots[head]
        remove(at: 0)
        return message
    }

    /// Takes the storage out, leaving this buffer empty, for reuse as the
    /// shared incoming queue: its capacity is kept, so a steady flow of
    /// messages allocates nothing.
    mutating func takeEmptyStorage() -> ContiguousArray<Envelope> {
        assert(isEmpty, "only an empty buffer gives its storage away")
        var storage = ContiguousArray<Envelope>()
        swap(&storage, &slots)
        if !storage.isEmpty { storage.removeAll(keepingCapacity: true) }
        head = 0
        excludedPrefix = (nil, 0)
        return storage
    }

    /// The messages, oldest first.
    var messages: [any Sendable] { slots[head...].map(\.message) }

    /// Removes the messages that satisfy `predicate`.
    mutating func removeAll(where predicate: (any Sendable) -> Bool) {
        slots.removeFirst(head)
        head = 0
        slots.removeAll { predicate($0.message) }
        excludedPrefix = (nil, 0)
    }

    /// What a consumed slot holds: no message. Made where it is stored, not
    /// kept in a static, whose every read costs a one-time-initialization check.
    private static var consumed: Envelope {
        @inline(__always) get { Envelope(boxing: ()) }
    }
}
