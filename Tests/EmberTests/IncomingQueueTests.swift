import Testing

@testable import Ember

/// The shared half of a mailbox: arrived messages in segments, so that a
/// backlog never grows one buffer by doubling.
@Suite("Incoming queue")
struct IncomingQueueTests {
    static let capacity = IncomingQueue.segmentCapacity

    static func queue(of count: Int) -> IncomingQueue {
        var queue = IncomingQueue()
        for value in 0..<count { queue.append(Envelope(boxing: value)) }
        return queue
    }

    static func values(_ envelopes: ContiguousArray<Envelope>) -> [Int] {
        envelopes.compactMap { $0.exactly(Int.self) }
    }

    @Test("a backlog is taken one segment at a time, oldest first, in order, saying whether more remain")
    func segmentsInOrder() {
        var queue = Self.queue(of: 2 * Self.capacity + 5)
        #expect(queue.count == 2 * Self.capacity + 5)
        var taken: [Int] = []
        var sizes: [Int] = []
        var more: [Bool] = []
        while let segment = queue.takeOldest(leaving: []) {
            taken += Self.values(segment.messages)
            sizes.append(segment.messages.count)
            more.append(segment.more)
        }
        #expect(sizes == [Self.capacity, Self.capacity, 5])
        #expect(more == [true, true, false])
        #expect(taken == Array(0..<(2 * Self.capacity + 5)))
        #expect(queue.isEmpty && queue.count == 0)
    }

    @Test("a full segment stays the newest until the next message arrives")
    func fullSegmentWaits() {
        var queue = Self.queue(of: Self.capacity)
        let whole = queue.takeOldest(leaving: [])
        #expect(whole?.messages.count == Self.capacity)
        #expect(whole?.more == false)
        #expect(queue.takeOldest(leaving: []) == nil)
    }

    @Test("the receiver's spare buffer becomes the newest segment when that one is taken")
    func spareReused() {
        var queue = Self.queue(of: 3)
        var spare = ContiguousArray<Envelope>()
        spare.reserveCapacity(64)
        let storage = spare.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        // Moved, as the receiver moves it: a copy kept here would make the
        // queue's first append copy the buffer.
        _ = queue.takeOldest(leaving: consume spare)
        queue.append(Envelope(boxing: 7))
        let next = queue.takeOldest(leaving: [])
        #expect(next?.messages.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } == storage)
        #expect(next.map { Self.values($0.messages) } == [7])
    }

    @Test("removing messages from a backlog keeps the others in order across segments")
    func removeAcrossSegments() {
        var queue = Self.queue(of: 2 * Self.capacity + 3)
        queue.removeAll { ($0 as? Int).map { $0 % 2 == 1 } ?? false }
        var taken: [Int] = []
        while let segment = queue.takeOldest(leaving: []) { taken += Self.values(segment.messages) }
        #expect(taken == Array(stride(from: 0, to: 2 * Self.capacity + 3, by: 2)))
    }

    @Test("removing every message of a backlog leaves the queue empty")
    func removeEverything() {
        var queue = Self.queue(of: Self.capacity + 1)
        queue.removeAll { _ in true }
        #expect(queue.isEmpty)
        #expect(queue.takeOldest(leaving: []) == nil)
        queue.append(Envelope(boxing: 1))
        #expect(queue.count == 1)
    }

    @Test("a process receives a backlog of several segments in order, and a selective receive finds the last message")
    func receiveThroughBacklog() async throws {
        let total = 2 * Self.capacity + 10
        let (queued, last, rest, flushed) = try await withProcess { () -> (Int, String?, [Int], Int) in
            let me = try Pid.current
            for value in 0..<total { send(me, value) }
            send(me, "last")
            let queued = me.info()?.messageQueueLength ?? -1
            // Behind every Int, in the third segment.
            let last = try await receive(after: 0) { (text: String) in text }
            var rest: [Int] = []
            for _ in 0..<(total - 5) { rest.append(try await receive(Int.self)) }
            return (queued, last, rest, try flush().count)
        }
        #expect(queued == total + 1)
        #expect(last == "last")
        #expect(rest == Array(0..<(total - 5)))
        #expect(flushed == 5)
    }

    @Test("taking everything at once gives every segment's messages in order and leaves the queue empty")
    func takeAllAtOnce() {
        var queue = Self.queue(of: 2 * Self.capacity + 7)
        #expect(Self.values(queue.takeAll()) == Array(0..<(2 * Self.capacity + 7)))
        #expect(queue.isEmpty && queue.count == 0)
        queue.append(Envelope(boxing: 9))
        #expect(Self.values(queue.takeAll()) == [9])
        #expect(queue.takeAll().isEmpty)
    }
}
