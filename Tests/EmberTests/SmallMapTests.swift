import Testing

@testable import Ember

/// The table of a process's monitors: linear while small, hashed past a limit.
@Suite("SmallMap")
struct SmallMapTests {
    typealias Map = SmallMap<Int, String>
    static let limit = Map.linearLimit

    @Test("entries are found, replaced and removed, in order while the map is small")
    func smallMap() {
        var map: Map = [1: "one", 2: "two"]
        map[3] = "three"
        map[2] = "deux"
        #expect(map[2] == "deux" && map[4] == nil && map.count == 3)
        #expect(map.map(\.key) == [1, 2, 3])
        #expect(map.removeValue(forKey: 1) == "one")
        #expect(map.removeValue(forKey: 1) == nil)
        map[3] = nil
        #expect(map.map(\.key) == [2] && map.values == ["deux"])
    }

    @Test("past its linear limit the map hashes, and keeps every entry")
    func growsIntoHashing() {
        var map = Map()
        for key in 0...(Self.limit * 3) { map[key] = "\(key)" }
        #expect(map.count == Self.limit * 3 + 1)
        for key in 0...(Self.limit * 3) { #expect(map[key] == "\(key)") }
        #expect(Set(map.map(\.key)) == Set(0...(Self.limit * 3)))
        map[0] = "zero"
        #expect(map.removeValue(forKey: 1) == "1")
        #expect(map[0] == "zero" && map[1] == nil && map.count == Self.limit * 3)
        for key in 0...(Self.limit * 3) { map[key] = nil }
        #expect(map.isEmpty)
    }

    @Test("maps are equal when they map the same keys to the same values, in any order")
    func equality() {
        var forward = Map(), backward = Map()
        for key in 0..<(Self.limit * 2) { forward[key] = "\(key)" }
        for key in (0..<(Self.limit * 2)).reversed() { backward[key] = "\(key)" }
        #expect(forward == backward)
        let small: Map = [1: "a", 2: "b"]
        #expect(small == [2: "b", 1: "a"])
        #expect(small != [1: "a", 2: "c"])
        #expect(small != [1: "a"])
    }

    @Test("a removal keeps the storage, as a dictionary's does; a new empty map has none")
    func storage() {
        var map: Map = [1: "one"]
        map[1] = nil
        #expect(map.isEmpty && map.capacity > 0)
        map = [:]
        #expect(map.capacity == 0)
    }

    @Test("a hashed map emptied goes back to linear entries, without the hashed storage")
    func hashedStorageReleased() {
        var map = Map()
        for key in 0...Self.limit { map[key] = "\(key)" }
        for key in 0...Self.limit { map[key] = nil }
        #expect(map.isEmpty && map.capacity < Self.limit)
        map[1] = "one"
        #expect(map[1] == "one" && map.map(\.key) == [1])
    }
}
