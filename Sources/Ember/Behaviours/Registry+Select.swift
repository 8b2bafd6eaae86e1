// Elixir's `select/2` and `count_select/2`: a match specification over
// `{key, pid, value}` becomes a Swift predicate over the typed triple.

extension Registry {
    /// The registrations, across all keys, whose key is a `Key` and value a
    /// `Value` and that satisfy `predicate` (Elixir's `select/2`). In no
    /// particular order; this reads every partition, so it costs as much as
    /// the registry is large.
    ///
    /// ```swift
    /// try registry.select(String.self, Int.self) { key, _, value in key.hasPrefix("job") && value > 1 }
    /// try registry.select(String.self, (any Sendable).self).map(\.key)    // every String key
    /// ```
    ///
    /// - Throws: ``RegistryError/unknownRegistry(_:)``.
    public func select<Key: Hashable & Sendable, Value>(
        _ keyType: Key.Type = Key.self, _ valueType: Value.Type = Value.self,
        where predicate: (Key, Pid, Value) -> Bool = { _, _, _ in true }
    ) throws(RegistryError) -> [(key: Key, pid: Pid, value: Value)] {
        try table().storage.all().compactMap { key, entry in
            guard let key = key.base as? Key, let value = entry.value as? Value,
                predicate(key, entry.pid, value)
            else { return nil }
            return (key, entry.pid, value)
        }
    }

    /// How many registrations ``select(_:_:where:)`` would return (Elixir's
    /// `count_select/2`).
    ///
    /// - Throws: ``RegistryError/unknownRegistry(_:)``.
    public func count<Key: Hashable & Sendable, Value>(
        _ keyType: Key.Type = Key.self, _ valueType: Value.Type = Value.self,
        where predicate: (Key, Pid, Value) -> Bool
    ) throws(RegistryError) -> Int {
        try select(Key.self, Value.self, where: predicate).count
    }
}
