// The `:via` callbacks (Elixir's `whereis_name/1`, `register_name/2`,
// `unregister_name/1`, `send/2`), for names of the form
// `{:via, Registry, {registry, key}}`: what `ProcessName.via(registry, key)`
// will call when GenServer and Agent start, find and reach a server by a
// registry key. Only unique registries name processes.

extension Registry {
    /// The live process registered under `key`, or nil.
    ///
    /// - Throws: ``RegistryError/notUnique(_:)`` for a duplicate registry,
    ///   ``RegistryError/unknownRegistry(_:)``.
    static func whereisName<Key: Hashable & Sendable>(_ registry: Atom, _ key: Key) throws(RegistryError) -> Pid? {
        let handle = Registry(registry)
        guard try handle.table().kind.isUnique else { throw .notUnique(registry) }
        return try handle.lookup(key, as: (any Sendable).self).first?.pid
    }

    /// Registers `pid`, which must be the calling process, under `key` with
    /// `value` (Elixir's `{registry, key, value}` form; without a value Elixir
    /// stores nil, here `Optional<any Sendable>.none`).
    ///
    /// - Throws: ``RegistryError/alreadyRegistered(_:)`` if a live process has
    ///   the name, ``RegistryError/notCaller(_:)`` if `pid` is not the caller,
    ///   ``RegistryError/notUnique(_:)``, ``RegistryError/unknownRegistry(_:)``,
    ///   ``RegistryError/notInProcess(_:)``.
    static func registerName<Key: Hashable & Sendable>(
        _ registry: Atom, _ key: Key, _ pid: Pid, value: any Sendable = Optional<any Sendable>.none
    ) throws(RegistryError) {
        let me = try caller("Registry.registerName")
        guard me.pid == pid else { throw .notCaller(pid) }
        let handle = Registry(registry)
        guard try handle.table().kind.isUnique else { throw .notUnique(registry) }
        _ = try handle.register(RegistryKey(key), value, as: me)
    }

    /// Removes the calling process's name `key`.
    ///
    /// - Throws: ``RegistryError/unknownRegistry(_:)``, ``RegistryError/notInProcess(_:)``.
    static func unregisterName<Key: Hashable & Sendable>(_ registry: Atom, _ key: Key) throws(RegistryError) {
        let me = try caller("Registry.unregisterName")
        try Registry(registry).unregister(RegistryKey(key), as: me.pid) { _ in true }
    }

    /// Sends `message` to the process registered under `key`.
    ///
    /// - Throws: ``RegistryError/notRegistered(_:)`` if no live process, or
    ///   more than one, has the key (Elixir raises `badarg`);
    ///   ``RegistryError/unknownRegistry(_:)``.
    static func sendName<Key: Hashable & Sendable, Message: Sendable>(
        _ registry: Atom, _ key: Key, _ message: Message
    ) throws(RegistryError) {
        let entries = try Registry(registry).lookup(key, as: (any Sendable).self)
        guard entries.count == 1, let entry = entries.first else { throw .notRegistered(key) }
        send(entry.pid, message)
    }
}
