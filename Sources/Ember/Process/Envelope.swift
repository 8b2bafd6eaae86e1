/// A message in a mailbox: the value, boxed once when it is sent (or kept
/// in a word of its own, if it is a plain value that fits), and its dynamic
/// type, noted beside it so that a selective receive can pass over messages
/// of other types by comparing type metadata instead of attempting a dynamic
/// cast on each.
///
/// The box is a class instance, so an envelope moves and copies like a
/// reference (a retain), where an `any Sendable` existential inline would be
/// copied and destroyed through its type's value witnesses at every step
/// from the sender to the receiver. A message of a type with no references
/// in at most eight bytes (`Int`, `Bool`, a plain enum, an empty struct)
/// needs no box at all: its bytes are the envelope's `bits`. A receive for the
/// type the message was sent as takes it out with a type comparison, never a
/// dynamic cast (``exactly(_:)``).
@usableFromInline
struct Envelope: Sendable {
    @usableFromInline let type: any Any.Type
    /// The bytes of a message kept unboxed (when `letter` is nil).
    @usableFromInline let bits: UInt
    /// The box of any other message.
    @usableFromInline let letter: Letter?

    /// Boxes `message` as its static type `Message`, or keeps it in `bits`
    /// if it is plain and fits. Where `Message` is itself an existential at
    /// run time (generic code handed one), the box and `type` hold the
    /// existential: receives then open it by a cast.
    @inlinable
    init<Message: Sendable>(boxing message: consuming Message) {
        if Self.fitsInBits(Message.self) {
            var bits: UInt = 0
            withUnsafeMutableBytes(of: &bits) { $0.storeBytes(of: message, as: Message.self) }
            self.type = Message.self
            self.bits = bits
            self.letter = nil
        } else {
            let letter = Boxed(message)
            self.type = Swift.type(of: letter.value)
            self.bits = 0
            self.letter = letter
        }
    }

    /// A `Message` is kept in `bits`: plain (no references, so its bytes are
    /// the value) and at most a word. A constant where `Message` is known.
    /// A plain type is its own dynamic type: no existential is plain but an
    /// existential metatype (`Any.Type`), which is then kept, and typed, as
    /// the existential.
    @inlinable
    static func fitsInBits<Message>(_: Message.Type) -> Bool {
        _isPOD(Message.self) && MemoryLayout<Message>.size <= MemoryLayout<UInt>.size
            && MemoryLayout<Message>.alignment <= MemoryLayout<UInt>.alignment
    }

    /// Boxes `message` as its dynamic type (the existential is opened), as
    /// if it had been sent as that type.
    init(_ message: any Sendable) {
        func box<Opened: Sendable>(_ opened: Opened) -> Envelope { Envelope(boxing: opened) }
        self = box(message)
    }

    /// The message as an existential, for whoever does not know its type.
    @usableFromInline var message: any Sendable {
        if let letter { return letter.message }
        // Kept in `bits` as its own `type`: load it as that type.
        func load<Plain>(_: Plain.Type) -> any Sendable {
            let value = withUnsafeBytes(of: bits) { $0.load(as: Plain.self) }
            // Only Sendable messages are kept (see `init(boxing:)`), and
            // `any Sendable` is laid out as `Any` (see `Boxed.message`).
            return unsafeBitCast(value as Any, to: (any Sendable).self)
        }
        return _openExistential(type, do: load)
    }

    /// The message as a `Message`, if it is one. A message sent as exactly
    /// `Message` is taken out directly; any other goes through `as?`, with
    /// all its conversions (optionals, existentials, collections, classes).
    @inlinable
    func value<Message>(as _: Message.Type) -> Message? {
        if let exact = exactly(Message.self) { return exact }
        return message as? Message
    }

    /// The message, if it was sent as exactly a `Message`: a comparison, never
    /// a cast. For the runtime's own messages, which it always sends as their
    /// own type.
    @inlinable
    func exactly<Message>(_: Message.Type) -> Message? {
        guard let letter else {
            guard ObjectIdentifier(type) == ObjectIdentifier(Message.self) else { return nil }
            // Kept in `bits` as a `Message` (see `init(boxing:)`).
            return withUnsafeBytes(of: bits) { $0.load(as: Message.self) }
        }
        guard ObjectIdentifier(Swift.type(of: letter)) == ObjectIdentifier(Boxed<Message>.self) else { return nil }
        return unsafeDowncast(letter, to: Boxed<Message>.self).value
    }

    /// The box of a message sent as exactly `Message` (a boxed one): its
    /// fields are then read in place, where ``exactly(_:)`` copies the whole
    /// message out (a retain per reference in it, a value-witness call per
    /// existential). For the runtime's own messages of several fields.
    @inlinable
    func boxed<Message>(_: Message.Type) -> Boxed<Message>? {
        guard let letter, ObjectIdentifier(Swift.type(of: letter)) == ObjectIdentifier(Boxed<Message>.self) else {
            return nil
        }
        return unsafeDowncast(letter, to: Boxed<Message>.self)
    }
}

/// `value` as a `Wanted`: for a value whose dynamic type is exactly `Wanted`,
/// a comparison of types and a copy; for any other, `as?` with all its
/// conversions. For the values the runtime carries inside its own messages
/// (a call's request and reply), which are usually of the type wanted.
@inlinable
func cast<Wanted>(_ value: any Sendable, to _: Wanted.Type) -> Wanted? {
    // The opened type is compared, not `type(of:)`: a value erased from a
    // generic parameter that was itself an existential opens as that
    // existential, whose layout differs from its content's.
    func reinterpret<Opened>(_ opened: Opened) -> Wanted? {
        guard Opened.self == Wanted.self else { return opened as? Wanted }
        return unsafeBitCast(opened, to: Wanted.self)  // the same type
    }
    return _openExistential(value, do: reinterpret)
}

/// The box of a message (see ``Envelope``): a class rather than a
/// protocol, so that a reference to one is a word, not an existential of
/// two (an envelope is 24 bytes, not 32, in every mailbox buffer).
@usableFromInline
class Letter: @unchecked Sendable {
    // @unchecked Sendable: it has no state; its one subclass, `Boxed`, holds
    // only a Sendable message, which it never changes.

    /// The message as an existential; every letter is a `Boxed`, which overrides it.
    @usableFromInline
    var message: any Sendable { () }

    @inlinable
    init() {}
}

/// The box of a message sent as a `Message`.
@usableFromInline
final class Boxed<Message>: Letter, @unchecked Sendable {
    // @unchecked Sendable: the only initializer takes a Sendable message,
    // and the box never changes it (`Message` is unconstrained only so that
    // a receive for any type can name `Boxed<Message>` to compare with).
    @usableFromInline let value: Message

    @inlinable
    init(_ value: consuming Message) where Message: Sendable {
        self.value = value
    }

    @usableFromInline
    override var message: any Sendable {
        // Only created with a Sendable message (see the initializer), and
        // `any Sendable` is laid out as `Any` (Sendable is a marker protocol,
        // with no witness table). The coercion `as Any` keeps the value from
        // being opened into its own type, whose size may differ.
        unsafeBitCast(value as Any, to: (any Sendable).self)
    }
}

/// Rules out, from type metadata alone, the messages that a receive for
/// `Wanted` could never accept, so that the scan behind a selective receive
/// costs a comparison per message rather than a dynamic cast.
///
/// `as?` does much more than compare types: it unwraps optionals,
/// `AnyHashable` and existentials, converts arrays, dictionaries, sets and
/// tuples element by element, and follows class hierarchies. So a message is
/// ruled out only when neither type can take part in any of that: the message
/// is a struct, enum or tuple (not an `Optional` or `AnyHashable`), and the
/// wanted type is a plain struct or enum (not `Optional`, `AnyHashable`,
/// `Array`, `Dictionary` or `Set`) of another type, or a tuple that the message
/// cannot be (not a tuple of the same arity). Everything else goes to the cast.
@usableFromInline
struct CastFilter {
    private enum Shape {
        case plain
        case tuple(arity: Int)
        case anything
    }

    /// The type receives for which are filtered.
    let wantedType: any Any.Type
    /// The last type ruled out: queued messages tend to come in runs of one type.
    private var excluded: ObjectIdentifier?
    /// How `wanted` can be matched, worked out at the first message of another type.
    private var shape: Shape?

    /// The wanted type's identity.
    var wanted: ObjectIdentifier { ObjectIdentifier(wantedType) }

    @usableFromInline
    init(wanted: any Any.Type) {
        self.wantedType = wanted
    }

    /// False only if no message of type `type` can be cast to the wanted type.
    mutating func mayMatch(_ type: any Any.Type) -> Bool {
        let id = ObjectIdentifier(type)
        if id == wanted { return true }
        if id == excluded { return false }
        if shape == nil { shape = Self.shape(of: wantedType) }
        if let shape, Self.mayCast(type, to: shape) { return true }
        excluded = id
        return false
    }

    private static func mayCast(_ type: any Any.Type, to shape: Shape) -> Bool {
        if case .anything = shape { return true }
        let kind = TypeMetadata.kind(of: type)
        guard kind == .struct || kind == .enum || kind == .tuple,
              ObjectIdentifier(type) != ObjectIdentifier(AnyHashable.self)
        else { return true }
        switch shape {
        case .plain: return false
        case .tuple(let arity): return kind == .tuple && TypeMetadata.tupleArity(of: type) == arity
        case .anything: return true
        }
    }

    private static func shape(of type: any Any.Type) -> Shape {
        switch TypeMetadata.kind(of: type) {
        case .struct:
            if ObjectIdentifier(type) == ObjectIdentifier(AnyHashable.self) { return .anything }
            let descriptor = TypeMetadata.nominalDescriptor(of: type)
            return TypeMetadata.castingCollections.contains(descriptor) ? .anything : .plain
        case .enum: return .plain
        case .tuple: return .tuple(arity: TypeMetadata.tupleArity(of: type))
        default: return .anything
        }
    }
}

/// Reads the few fields of Swift type metadata that ``CastFilter`` needs.
///
/// The layout is the Swift ABI's (docs/ABI/TypeMetadata.rst in the Swift
/// repository): every metadata record starts with a pointer-sized kind (an isa
/// pointer, above 0x7FF, for classes); struct and enum records hold their
/// nominal type descriptor in the next word, tuple records their element count.
/// A metatype value is a pointer to its metadata record, which the runtime
/// keeps for the life of the process, so the loads below always read valid,
/// immutable memory.
enum TypeMetadata {
    struct Kind: Equatable {
        let rawValue: UInt
        static let `struct` = Kind(rawValue: 0x200)
        static let `enum` = Kind(rawValue: 0x201)
        static let tuple = Kind(rawValue: 0x301)
    }

    @inline(__always)
    private static func record(_ type: any Any.Type) -> UnsafeRawPointer {
        unsafeBitCast(type, to: UnsafeRawPointer.self)
    }

    static func kind(of type: any Any.Type) -> Kind {
        Kind(rawValue: record(type).load(as: UInt.self))
    }

    /// Only for struct and enum metadata.
    static func nominalDescriptor(of type: any Any.Type) -> UInt {
        record(type).load(fromByteOffset: MemoryLayout<UInt>.stride, as: UInt.self)
    }

    /// Only for tuple metadata.
    static func tupleArity(of type: any Any.Type) -> Int {
        record(type).load(fromByteOffset: MemoryLayout<UInt>.stride, as: Int.self)
    }

    /// The generic structs that `as?` converts element by element: every
    /// specialisation of one shares its nominal type descriptor.
    static let castingCollections: Set<UInt> = [
        nominalDescriptor(of: [Int].self),
        nominalDescriptor(of: [Int: Int].self),
        nominalDescriptor(of: Set<Int>.self),
    ]
}
