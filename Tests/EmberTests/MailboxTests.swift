import Testing

@testable import Ember

/// The mailbox's shortcuts for selective receive: the type filter, the
/// excluded prefix, and the buffer they work on.
@Suite("Mailbox")
struct MailboxTests {
    struct Point: Sendable, Equatable { let x: Int }
    enum Signal: Sendable { case go, stop }
    final class Base: Sendable {}

    /// Messages of many kinds: structs, enums, tuples, optionals, collections,
    /// classes, functions. (AnyHashable is not Sendable, so it is never a message.)
    static let samples: [any Sendable] = [
        1, "text", Atom("a"), Point(x: 1), Signal.go, (Atom("a"), 1), (1, 2, 3), (x: 1, y: 2),
        Optional(5) as Int?, Optional<Int>.none as Int?, [1, 2], [Atom("a")], [1: "one"], Set([1]),
        Base(), Double(1.5), ((1, 2), 3), [Optional(1)],
        { @Sendable in } as any Sendable,
    ]

    /// Wanted types paired with the cast a receive would make.
    static let wanted: [(type: any Any.Type, accepts: @Sendable (any Sendable) -> Bool)] = [
        (Int.self, { $0 is Int }), (String.self, { $0 is String }), (Atom.self, { $0 is Atom }),
        (Point.self, { $0 is Point }), (Signal.self, { $0 is Signal }),
        ((Atom, Int).self, { $0 is (Atom, Int) }), ((Any, Any).self, { $0 is (Any, Any) }),
        ((Int, Int, Int).self, { $0 is (Int, Int, Int) }), ((Int, Int).self, { $0 is (Int, Int) }),
        (Int?.self, { $0 is Int? }), ([Int].self, { $0 is [Int] }), ([Any].self, { $0 is [Any] }),
        ([Int: String].self, { $0 is [Int: String] }), (Set<Int>.self, { $0 is Set<Int> }),
        (AnyHashable.self, { $0 is AnyHashable }), (Base.self, { $0 is Base }),
        ((any Sendable).self, { _ in true }), (Double.self, { $0 is Double }),
        (((Int, Int), Int).self, { $0 is ((Int, Int), Int) }), ([Int?].self, { $0 is [Int?] }),
    ]

    /// Whether a fresh filter for `wanted` lets `message` through to the cast.
    static func admits(_ wanted: any Any.Type, _ message: any Sendable) -> Bool {
        var filter = CastFilter(wanted: wanted)
        return filter.mayMatch(Envelope(message).type)
    }

    @Test("the type filter never rules out a message that the receive's cast would accept")
    func filterIsSound() {
        var checked = 0
        for (type, accepts) in Self.wanted {
            for message in Self.samples where accepts(message) {
                #expect(Self.admits(type, message), "\(type) must see \(message)")
                checked += 1
            }
        }
        #expect(checked > 20)
    }

    @Test("the type filter rules out plain values of other types")
    func filterRulesOut() {
        #expect(!Self.admits(Atom.self, (Atom("junk"), 1)))
        #expect(!Self.admits(Atom.self, Point(x: 1)))
        #expect(!Self.admits(Atom.self, Signal.go))
        #expect(Self.admits(Atom.self, Atom("match")))
        #expect(Self.admits(Atom.self, Optional(Atom("match")) as Atom?))
        #expect(!Self.admits((Atom, Int).self, (1, 2, 3)))
        #expect(!Self.admits((Atom, Int).self, Atom("a")))
        #expect(Self.admits((Atom, Int).self, (1, 2)))
    }

    @Test("an envelope opens as the type its message was sent as, and through a cast as any type the message converts to")
    func envelopesOpen() {
        let exact = Envelope(Atom("a"))
        #expect(exact.exactly(Atom.self) == Atom("a"))
        #expect(exact.value(as: Atom.self) == Atom("a"))
        #expect(exact.exactly(String.self) == nil)
        #expect(exact.value(as: String.self) == nil)
        #expect(exact.value(as: (any CustomStringConvertible).self)?.description == ":a")
        // Handed over as an existential, a message is boxed as its own type.
        let erased = Envelope(Atom("b") as any Sendable)
        #expect(ObjectIdentifier(erased.type) == ObjectIdentifier(Atom.self))
        #expect(erased.exactly(Atom.self) == Atom("b"))
        #expect(erased.value(as: Int.self) == nil)
        // Generic code whose type is an existential boxes the existential:
        // only the cast opens it.
        func boxedGenerically<Message: Sendable>(_ message: Message) -> Envelope { Envelope(boxing: message) }
        let nested = boxedGenerically(Atom("c") as any Sendable)
        #expect(nested.exactly(Atom.self) == nil)
        #expect(nested.value(as: Atom.self) == Atom("c"))
        #expect(nested.value(as: Int.self) == nil)
        // `as?` unwraps an optional message.
        #expect(Envelope(Optional(3)).value(as: Int.self) == 3)
    }

    @Test("a plain message of at most a word is kept unboxed, and opens as its type, as an existential and through a cast")
    func plainMessagesUnboxed() {
        enum Light: Sendable { case red, green }
        struct Empty: Sendable, Equatable {}
        let number = Envelope(boxing: 42)
        #expect(number.letter == nil)
        #expect(number.exactly(Int.self) == 42)
        #expect(number.exactly(UInt.self) == nil)
        #expect(number.message as? Int == 42)
        #expect(number.value(as: (any Numeric).self).map { "\($0)" } == "42")
        #expect(Envelope(boxing: Light.green).exactly(Light.self) == .green)
        #expect(Envelope(boxing: Empty()).exactly(Empty.self) == Empty())
        #expect(Envelope(boxing: true).value(as: Bool.self) == true)
        #expect(Envelope(boxing: 2.5).message as? Double == 2.5)
        let metatype = Envelope(boxing: Int.self as Any.Type)
        #expect(metatype.value(as: Int.Type.self) != nil)
        // Opened from an existential, a plain message is kept unboxed too.
        #expect(Envelope(7 as any Sendable).letter == nil)
        // Larger or holding references: boxed.
        #expect(Envelope(boxing: (1, 2)).letter != nil)
        #expect(Envelope(boxing: "text").letter != nil)
        #expect(Envelope(boxing: Atom("a")).exactly(Atom.self) == Atom("a"))
    }

    @Test("a carried value is cast by comparing its type when it has the type wanted, and by as? otherwise")
    func castsCarriedValues() {
        #expect(cast(42 as any Sendable, to: Int.self) == 42)
        #expect(cast("text" as any Sendable, to: String.self) == "text")
        #expect(cast(Atom("a") as any Sendable, to: Int.self) == nil)
        #expect(cast(Optional(7) as any Sendable, to: Int.self) == 7)
        #expect(cast([1, 2] as any Sendable, to: [Int].self) == [1, 2])
        #expect(cast(Atom("b") as any Sendable, to: (any CustomStringConvertible).self)?.description == ":b")
        #expect(cast((Atom("ok"), 1) as any Sendable, to: (Atom, Int).self).map { $0.1 } == 1)
        // Erased from a generic parameter that was an existential, the value
        // opens as the existential: it is cast, not reinterpreted.
        func erased<Value: Sendable>(_ value: Value) -> any Sendable { value }
        #expect(cast(erased(5 as any CustomStringConvertible & Sendable), to: Int.self) == 5)
        #expect(cast(erased(Int.self as any (CustomStringConvertible & Sendable).Type), to: Int.Type.self) != nil)
        #expect(cast(erased(5 as any Sendable), to: String.self) == nil)
    }

    @Test("a scan starts after the messages a receive for the same type ruled out")
    func excludedPrefix() {
        var buffer = MessageBuffer()
        for index in 0..<5 { buffer.append(Envelope((Atom("junk"), index))) }
        buffer.append(Envelope(Atom("first")))
        var looked: [String] = []
        var filter = CastFilter(wanted: Atom.self)
        let found = buffer.firstPosition(from: 0, filter: &filter) { envelope in
            looked.append(inspect(envelope.message))
            return true
        }
        #expect(found == 5)
        #expect(looked == [":first"])
        buffer.remove(at: 5)
        buffer.append(Envelope(Atom("second")))
        looked = []
        var again = CastFilter(wanted: Atom.self)
        let foundAgain = buffer.firstPosition(from: 0, filter: &again) { looked.append(inspect($0.message)); return true }
        #expect(foundAgain == 5)
        #expect(looked == [":second"])
        // A receive for the junk's own type still sees every one, in order.
        var junk = CastFilter(wanted: (Atom, Int).self)
        looked = []
        let foundJunk = buffer.firstPosition(from: 0, filter: &junk) { looked.append(inspect($0.message)); return false }
        #expect(foundJunk == nil)
        #expect(looked.count == 5)
        buffer.remove(at: 0)
        #expect(buffer.count == 5)
        #expect(buffer.messages.map(inspect) == ["{:junk, 1}", "{:junk, 2}", "{:junk, 3}", "{:junk, 4}", ":second"])
    }

    @Test("the oldest messages are removed in order and the buffer empties cleanly")
    func removesFromTheFront() {
        var buffer = MessageBuffer()
        for index in 0..<100 { buffer.append(Envelope(index)) }
        var taken: [Int] = []
        while !buffer.isEmpty {
            var filter = CastFilter(wanted: Int.self)
            guard let position = buffer.firstPosition(from: 0, filter: &filter, where: { _ in true }) else { break }
            taken.append(buffer.messages[position] as? Int ?? -1)
            buffer.remove(at: position)
        }
        #expect(taken == Array(0..<100))
        #expect(buffer.count == 0)
    }

    @Test("a buffer fed as it is drained keeps at most twice its live messages, and one only drained empties")
    func consumedSlotsAreDropped() {
        var buffer = MessageBuffer()
        var next = 0, expected = 0
        for _ in 0..<1_000 {
            for _ in 0..<3 {
                buffer.append(Envelope(boxing: next))
                next += 1
            }
            for _ in 0..<3 {
                #expect(buffer.oldest(ofType: Int.self, isAcceptedBy: { $0.exactly(Int.self) == expected }) == true)
                buffer.remove(at: 0)
                expected += 1
            }
            buffer.append(Envelope(boxing: next))
            next += 1
        }
        #expect(buffer.count == 1_000)
        #expect(buffer.slotCount <= 2 * buffer.count + 1)
        while !buffer.isEmpty {
            #expect(buffer.oldest(ofType: Int.self, isAcceptedBy: { $0.exactly(Int.self) == expected }) == true)
            buffer.remove(at: 0)
            expected += 1
        }
        #expect(expected == next && buffer.slotCount == 0)
    }

    @Test("the oldest message is offered to a receive only if it was sent as the type wanted, and stays until removed")
    func oldestOfType() throws {
        struct Refused: Error {}
        var buffer = MessageBuffer()
        let fromEmpty = buffer.oldest(ofType: Int.self, isAcceptedBy: { _ in true })
        #expect(fromEmpty == nil)
        buffer.append(Envelope(boxing: 1))
        buffer.append(Envelope(boxing: "two"))
        var offered = 0
        let ofOtherType = buffer.oldest(ofType: String.self, isAcceptedBy: { _ in offered += 1; return true })
        #expect(ofOtherType == nil && offered == 0)
        let refused = buffer.oldest(ofType: Int.self, isAcceptedBy: { _ in false })
        #expect(refused == false)
        var threw = false
        do { _ = try buffer.oldest(ofType: Int.self, isAcceptedBy: { _ in throw Refused() }) } catch is Refused { threw = true }
        #expect(threw)
        let taken = buffer.oldest(ofType: Int.self, isAcceptedBy: { $0.exactly(Int.self) == 1 })
        #expect(taken == true && buffer.count == 2)
        buffer.remove(at: 0)
        let next = buffer.oldest(ofType: String.self, isAcceptedBy: { $0.exactly(String.self) == "two" })
        #expect(next == true)
    }

    @Test("a receive passes over messages of other types and later ones take them in order")
    func receivesAcrossTypes() async throws {
        let (atom, ints, rest) = try await withProcess { () -> (Atom, [Int], [String]) in
            let me = try Pid.current
            for index in 0..<50 { send(me, index) }
            send(me, Point(x: 1))
            send(me, Atom("wanted"))
            let atom = try await receive(Atom.self)
            var ints: [Int] = []
            for _ in 0..<50 { ints.append(try await receive(Int.self)) }
            return (atom, ints, try flush().map(inspect))
        }
        #expect(atom == "wanted")
        #expect(ints == Array(0..<50))
        #expect(rest.count == 1)
    }

    /// Counts overlapping runs: an actor never runs two of them at once.
    actor Guarded {
        private var busy = false
        private(set) var overlaps = 0

        /// Waits for a message, then occupies the actor for a while.
        func receiveThenWork() async throws -> Int {
            let value = try await receive(Int.self)
            if busy { overlaps += 1 }
            busy = true
            var spin = 0
            for index in 0..<20_000 { spin &+= index }
            busy = false
            return value &+ spin &* 0
        }
    }

    @Test("a process can receive inside an actor method, and resumes on that actor")
    func receiveKeepsActorIsolation() async throws {
        let guarded = Guarded()
        let overlaps = try await withProcess { () -> Int in
            let me = try Pid.current
            var workers: [Pid] = []
            for _ in 0..<4 {
                workers.append(spawn {
                    var total = 0
                    for _ in 0..<50 { total &+= try await guarded.receiveThenWork() }
                    send(me, total)
                })
            }
            for round in 0..<50 {
                for worker in workers { send(worker, round) }
            }
            var finished = 0
            for _ in workers where try await receive(Int.self, after: 10_000) != nil { finished += 1 }
            return finished == workers.count ? await guarded.overlaps : -1
        }
        #expect(overlaps == 0)
    }
}
