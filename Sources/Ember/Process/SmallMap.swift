/// A dictionary for the few entries that a process's monitors usually
/// number: kept in an array and searched linearly while small, hashed once it
/// grows past ``linearLimit``.
///
/// A server's callers each monitor it while their call lasts, so the
/// server's table gains and loses an entry on every call. With one or two
/// entries, comparing them is cheaper than hashing a key, which is most of the
/// cost of a `Dictionary` insert or removal.
///
/// Linear entries keep the order they were added in; hashed ones, a
/// dictionary's order.
struct SmallMap<Key: Hashable, Value> {
    /// Entries past which the map hashes.
    static var linearLimit: Int { 8 }

    // One of the two is empty: `hashed` once the map has outgrown `linear`.
    private var linear: ContiguousArray<(key: Key, value: Value)> = []
    private var hashed: [Key: Value] = [:]

    init() {}

    var isEmpty: Bool { linear.isEmpty && hashed.isEmpty }
    var count: Int { linear.count + hashed.count }
    /// Entries the storage has room for without growing.
    var capacity: Int { linear.capacity + hashed.capacity }

    subscript(key: Key) -> Value? {
        get {
            guard hashed.isEmpty else { return hashed[key] }
            return linear.first { $0.key == key }?.value
        }
        set {
            guard let newValue else {
                removeValue(forKey: key)
                return
            }
            if !hashed.isEmpty {
                hashed[key] = newValue
            } else if let index = linear.firstIndex(where: { $0.key == key }) {
                linear[index].value = newValue
            } else if linear.count < Self.linearLimit {
                linear.append((key, newValue))
            } else {
                hashed = Dictionary(uniqueKeysWithValues: linear.lazy.map { ($0.key, $0.value) })
                hashed[key] = newValue
                linear = []
            }
        }
    }

    /// Removes the entry for `key`; returns its value, nil if there was none.
    /// Keeps the storage, as `Dictionary` does.
    @discardableResult
    mutating func removeValue(forKey key: Key) -> Value? {
        guard hashed.isEmpty else { return removeHashed(key) }
        guard let index = linear.firstIndex(where: { $0.key == key }) else { return nil }
        return linear.remove(at: index).value
    }

    @inline(never)
    private mutating func removeHashed(_ key: Key) -> Value? {
        let value = hashed.removeValue(forKey: key)
        // Emptied, the map goes back to linear entries: the hashed storage of
        // a burst of entries is not kept.
        if hashed.isEmpty { hashed = [:] }
        return value
    }

    var values: [Value] { map(\.value) }
}

extension SmallMap: Sequence {
    struct Iterator: IteratorProtocol {
        fileprivate var linear: ContiguousArray<(key: Key, value: Value)>.Iterator
        fileprivate var hashed: [Key: Value].Iterator

        mutating func next() -> (key: Key, value: Value)? {
            linear.next() ?? hashed.next()
        }
    }

    func makeIterator() -> Iterator {
        Iterator(linear: linear.makeIterator(), hashed: hashed.makeIterator())
    }

    var underestimatedCount: Int { count }
}

extension SmallMap: ExpressibleByDictionaryLiteral {
    init(dictionaryLiteral elements: (Key, Value)...) {
        for (key, value) in elements { self[key] = value }
    }
}

extension SmallMap: Equatable where Value: Equatable {
    /// Equal if they map the same keys to the same values, in any order.
    static func == (lhs: SmallMap, rhs: SmallMap) -> Bool {
        lhs.count == rhs.count && lhs.allSatisfy { rhs[$0.key] == $0.value }
    }
}

extension SmallMap: Sendable where Key: Sendable, Value: Sendable {}
