// Reads: straight from the tables, from any thread, inside a process or not.
// A process that has exited is never returned, even before its partition has
// removed its entries; values of another type than the one asked for are left
// out, as a pattern that does not match.

extension Registry {
    /// The processes registered under `key`, with their values (Elixir's
    /// `lookup/2`). At most one for unique keys; in no particular order.
    ///
    /// ```swift
    /// try registry.register("hello", "world")
    /// try registry.lookup("hello", as: String.self)   // [(pid: self, value: "world")]
    /// ```
    ///
    /// - Throws: ``RegistryError/unknownRegistry(_:)``.
    public func lookup<Key: Hashable & Sendable, Value>(
        _ key: Key, as type: Value.Type = Value.self
    ) throws(RegistryError) -> [(pid: Pid, value: Value)] {
        try table().storage.lookup(RegistryKey(key)).compactMap(Self.typed)
    }

    /// The registrations under `key` whose value is a `Value` satisfying
    /// `predicate` (Elixir's `match/4`: a Swift predicate for the pattern and
    /// guards).
    ///
    /// ```swift
    /// try registry.match("hello", as: (Int, Atom).self) { $0.0 > 1 }
    /// ```
    ///
    /// - Throws: ``RegistryError/unknownRegistry(_:)``.
    public func match<Key: Hashable & Sendable, Value>(
        _ key: Key, as type: Value.Type = Value.self, where predicate: (Value) -> Bool
    ) throws(RegistryError) -> [(pid: Pid, value: Value)] {
        try lookup(key, as: Value.self).filter { predicate($0.value) }
    }

    /// How many registrations the registry holds, in constant time per
    /// partition (Elixir's `count/1`). Like Elixir's, it may still count a
    /// process that has just exited, until its partition has cleaned up.
    ///
    /// - Throws: ``RegistryError/unknownRegistry(_:)``.
    public func count() throws(RegistryError) -> Int {
        try table().storage.count
    }

    /// How many live registrations `key` has.
    ///
    /// - Throws: ``RegistryError/unknownRegistry(_:)``.
    public func count<Key: Hashable & Sendable>(matching key: Key) throws(RegistryError) -> Int {
        try table().storage.lookup(RegistryKey(key)).count
    }

    /// How many live registrations under `key` have a `Value` satisfying
    /// `predicate` (Elixir's `count_match/4`).
    ///
    /// - Throws: ``RegistryError/unknownRegistry(_:)``.
    public func count<Key: Hashable & Sendable, Value>(
        matching key: Key, as type: Value.Type = Value.self, where predicate: (Value) -> Bool
    ) throws(RegistryError) -> Int {
        try match(key, as: Value.self, where: predicate).count
    }

    /// Calls `body` with the registrations under `key`, in the calling
    /// process (Elixir's `dispatch/3`): once per partition that holds some,
    /// never with an empty list, so not at all if there are none. The tables
    /// are not locked while `body` runs.
    ///
    /// ```swift
    /// try registry.dispatch("news", as: Void.self) { entries in
    ///     for (pid, _) in entries { send(pid, (Atom("broadcast"), "world")) }
    /// }
    /// ```
    ///
    /// - Throws: ``RegistryError/unknownRegistry(_:)``, or what `body` throws.
    public func dispatch<Key: Hashable & Sendable, Value>(
        _ key: Key, as type: Value.Type = Value.self, _ body: ([(pid: Pid, value: Value)]) throws -> Void
    ) throws {
        for partition in try table().storage.lookupByPartition(RegistryKey(key)) {
            let entries = partition.compactMap(Self.typed as (RegistryEntry) -> (pid: Pid, value: Value)?)
            if !entries.isEmpty { try body(entries) }
        }
    }

    /// The keys `pid` is registered under that are `Key`s (Elixir's
    /// `keys/2`): once per registration, so a key may repeat in a duplicate
    /// registry. Empty if `pid` is not alive.
    ///
    /// - Throws: ``RegistryError/unknownRegistry(_:)``.
    public func keys<Key: Hashable & Sendable>(
        for pid: Pid, as type: Key.Type = Key.self
    ) throws(RegistryError) -> [Key] {
        try table().storage.keys(of: pid).compactMap { $0.base as? Key }
    }

    /// The values `pid` registered under `key` (Elixir's `values/3`): none
    /// or one for unique keys, any number for duplicate ones.
    ///
    /// - Throws: ``RegistryError/unknownRegistry(_:)``.
    public func values<Key: Hashable & Sendable, Value>(
        _ key: Key, for pid: Pid, as type: Value.Type = Value.self
    ) throws(RegistryError) -> [Value] {
        try table().storage.lookup(RegistryKey(key), pid: pid).compactMap { $0.value as? Value }
    }

    static func typed<Value>(_ entry: RegistryEntry) -> (pid: Pid, value: Value)? {
        guard let value = entry.value as? Value else { return nil }
        return (entry.pid, value)
    }

    // MARK: Metadata

    /// The registry's metadata under `key`, given to ``startLink(keys:name:partitions:meta:)``
    /// or ``putMeta(_:_:)``; nil if there is none or it is not a `Value`.
    ///
    /// ```swift
    /// try registry.putMeta("region", "eu")
    /// try registry.meta("region", as: String.self)   // "eu"
    /// ```
    ///
    /// - Throws: ``RegistryError/unknownRegistry(_:)``.
    public func meta<Value>(_ key: Atom, as type: Value.Type = Value.self) throws(RegistryError) -> Value? {
        try table().meta.withLock { $0[key] } as? Value
    }

    /// Stores metadata under `key`, replacing what was there.
    ///
    /// - Throws: ``RegistryError/unknownRegistry(_:)``.
    public func putMeta<Value: Sendable>(_ key: Atom, _ value: Value) throws(RegistryError) {
        try table().meta.withLock { $0[key] = value }
    }

    /// Removes the metadata under `key`, if any.
    ///
    /// - Throws: ``RegistryError/unknownRegistry(_:)``.
    public func deleteMeta(_ key: Atom) throws(RegistryError) {
        _ = try table().meta.withLock { $0.removeValue(forKey: key) }
    }
}
