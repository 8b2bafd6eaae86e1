extension Registry {
    /// Registers the calling process under `key` with `value` and returns the
    /// owner: the partition process the caller is now linked to, which
    /// removes the caller's entries when it exits (Elixir's `{:ok, owner}`).
    ///
    /// ```swift
    /// try registry.register("hello", "world")
    /// try registry.register("hello", "later")   // unique keys: throws alreadyRegistered(self)
    /// ```
    ///
    /// With duplicate keys, every call adds a registration, even for a key the
    /// caller already has.
    ///
    /// - Throws: ``RegistryError/alreadyRegistered(_:)`` with the holder if
    ///   the key is unique and a live process holds it (possibly the caller);
    ///   ``RegistryError/unknownRegistry(_:)``; ``RegistryError/notInProcess(_:)``.
    @discardableResult
    public func register<Key: Hashable & Sendable, Value: Sendable>(
        _ key: Key, _ value: Value
    ) throws(RegistryError) -> Pid {
        let me = try Registry.caller("Registry.register")
        return try register(RegistryKey(key), value, as: me)
    }

    /// Registers `me` (the calling process): links to the owner, writes both
    /// tables, undoes it all if the key is taken or `me` died meanwhile.
    func register(_ key: RegistryKey, _ value: any Sendable, as me: ProcessCell) throws(RegistryError) -> Pid {
        let table = try table()
        let pid = me.pid
        let owner = table.owners[table.storage.pidPartition(pid)]
        do { try link(owner) } catch { throw .unknownRegistry(name) }
        switch table.storage.insert(key, pid: pid, value: value) {
        case .taken(let holder):
            unlinkIfUnregistered(table, owner: owner, pid: pid)
            throw .alreadyRegistered(holder)
        case .inserted(let id):
            // A killed process runs on until its next suspension point: if it
            // died before its entries were in place, its partition may have
            // cleaned up already and nobody else will.
            if !me.isAlive { table.storage.remove(key, pid: pid, id: id) }
            return owner
        }
    }

    /// Removes every registration of the calling process under `key`; other
    /// processes' registrations stay. Does nothing if there is none. When the
    /// caller has no registrations left in its partition, it is unlinked
    /// from the owner.
    ///
    /// - Throws: ``RegistryError/unknownRegistry(_:)``, ``RegistryError/notInProcess(_:)``.
    public func unregister<Key: Hashable & Sendable>(_ key: Key) throws(RegistryError) {
        let me = try Registry.caller("Registry.unregister")
        try unregister(RegistryKey(key), as: me.pid) { _ in true }
    }

    /// Removes the registrations of the calling process under `key` whose
    /// value is a `Value` and satisfies `predicate` (Elixir's
    /// `unregister_match/4`, with a Swift predicate for the match spec).
    ///
    /// ```swift
    /// try registry.unregisterMatch("topic", as: Int.self) { $0 > 1 }
    /// ```
    ///
    /// - Throws: ``RegistryError/unknownRegistry(_:)``, ``RegistryError/notInProcess(_:)``.
    public func unregisterMatch<Key: Hashable & Sendable, Value>(
        _ key: Key, as type: Value.Type = Value.self, where predicate: (Value) -> Bool
    ) throws(RegistryError) {
        let me = try Registry.caller("Registry.unregisterMatch")
        try unregister(RegistryKey(key), as: me.pid) { value in
            guard let typed = value as? Value else { return false }
            return predicate(typed)
        }
    }

    func unregister(_ key: RegistryKey, as pid: Pid, where predicate: (any Sendable) -> Bool) throws(RegistryError) {
        let table = try table()
        let owner = table.owners[table.storage.pidPartition(pid)]
        if !table.storage.remove(key, pid: pid, where: predicate) {
            unlinkIfUnregistered(table, owner: owner, pid: pid)
        }
    }

    /// Unlinks from `owner` if `pid` has no registrations left with it.
    private func unlinkIfUnregistered(_ table: RegistryTable, owner: Pid, pid: Pid) {
        if !table.storage.hasRegistrations(pid) { try? unlink(owner) }
    }

    /// Replaces the value the calling process registered under `key` in a
    /// unique registry with `transform` of it, and returns both; nil if the
    /// caller does not hold `key` or its value is not a `Value`.
    ///
    /// ```swift
    /// try registry.register("counter", 1)
    /// try registry.updateValue("counter", as: Int.self) { $0 + 1 }   // (new: 2, old: 1)
    /// ```
    ///
    /// - Throws: ``RegistryError/notUnique(_:)`` for a duplicate registry,
    ///   ``RegistryError/unknownRegistry(_:)``, ``RegistryError/notInProcess(_:)``.
    @discardableResult
    public func updateValue<Key: Hashable & Sendable, Value: Sendable>(
        _ key: Key, as type: Value.Type = Value.self, _ transform: (Value) -> Value
    ) throws(RegistryError) -> (new: Value, old: Value)? {
        let me = try Registry.caller("Registry.updateValue")
        let table = try table()
        guard table.kind.isUnique else { throw .notUnique(name) }
        let key = RegistryKey(key)
        // Only the holder changes its own entry, so reading and writing
        // under two locks is safe; `transform` runs under none.
        guard let entry = table.storage.lookup(key, pid: me.pid).first,
            let old = entry.value as? Value
        else { return nil }
        let new = transform(old)
        guard table.storage.update(key, pid: me.pid, id: entry.id, value: new) else { return nil }
        return (new, old)
    }
}
