/// A local key-value store of processes: Elixir's `Registry`.
///
/// A registry maps keys to the processes that registered under them, each
/// registration with a value. With ``Keys/unique`` keys a key names at most
/// one process; with ``Keys/duplicate`` keys any number of processes (and one
/// process many times) can register under the same key. A process's
/// registrations disappear when it exits.
///
/// `Registry` is a handle: the registry's name. Start the registry from a
/// process (it is linked to it), then use the handle from anywhere:
///
/// ```swift
/// try await withProcess {
///     try await Registry.startLink(keys: .unique, name: "MyApp.Registry")
///     let registry = Registry("MyApp.Registry")
///
///     try registry.register("hello", "world")       // the calling process
///     try registry.lookup("hello", as: String.self)  // [(pid: self, value: "world")]
/// }
/// ```
///
/// Reads (``lookup(_:as:)``, ``match(_:as:where:)``, ``dispatch(_:as:_:)``, …)
/// go straight to the registry's tables from the calling thread, with no
/// message to any process, as Elixir reads its ETS tables. Keys are any
/// `Hashable & Sendable` values, compared with `==`; values are any
/// `Sendable` values, and the typed reads leave out values of another type
/// the way a pattern that does not match would.
///
/// As a publish/subscribe hub, with duplicate keys:
///
/// ```swift
/// try await Registry.startLink(keys: .duplicate, name: "PubSub", partitions: EmberRuntime.schedulerCount)
/// let pubsub = Registry("PubSub")
/// try pubsub.register("news", ())                  // in each subscriber
/// try pubsub.dispatch("news", as: Void.self) { entries in
///     for (pid, _) in entries { send(pid, "extra!") }
/// }
/// ```
///
/// Each registering process is linked to one of the registry's partition
/// processes (the *owner* that ``register(_:_:)`` returns), which traps exits
/// and removes the process's entries when it exits. Reads never return a
/// process that has exited, even before its owner has cleaned up.
public struct Registry: Sendable, Hashable, CustomStringConvertible {
    /// The registry's name: the name of its process and of its tables.
    public let name: Atom

    /// A handle on the registry named `name`. The registry need not be
    /// running yet; operations on one that is not throw
    /// ``RegistryError/unknownRegistry(_:)``.
    public init(_ name: Atom) { self.name = name }

    public var description: String { "Registry(\(name))" }

    /// Whether a registry's keys are unique or may be duplicated.
    public struct Keys: Sendable, Hashable, CustomStringConvertible {
        enum Kind: Sendable, Hashable {
            case unique
            case duplicate
        }

        let kind: Kind

        /// A key names at most one process (Elixir's `keys: :unique`).
        /// Partitioned by key.
        public static let unique = Keys(kind: .unique)
        /// Any number of registrations per key, even from one process
        /// (Elixir's `keys: :duplicate`). Partitioned by pid.
        public static let duplicate = Keys(kind: .duplicate)

        var isUnique: Bool { kind == .unique }

        public var description: String {
            switch kind {
            case .unique: ":unique"
            case .duplicate: ":duplicate"
            }
        }
    }

    // MARK: Starting and stopping

    /// Starts a registry named `name`, linked to the calling process, and
    /// returns the pid of its process (registered under `name`). The registry
    /// stops when that process stops, in particular when the caller exits.
    ///
    /// ```swift
    /// try await Registry.startLink(keys: .unique, name: "MyApp.Registry", meta: ["region": "eu"])
    /// ```
    ///
    /// - Parameters:
    ///   - partitions: how many partitions (and partition processes) share
    ///     the entries; more partitions scale better under concurrent
    ///     writes. Unique registries partition by key, duplicate ones by pid.
    ///   - meta: metadata readable with ``meta(_:as:)``.
    /// - Throws: ``RegistryError/alreadyStarted(_:)`` if `name` is taken,
    ///   ``RegistryError/invalidPartitions(_:)``, ``RegistryError/reservedName(_:)``,
    ///   ``RegistryError/notInProcess(_:)`` outside a process.
    @discardableResult
    public static func startLink(
        keys: Keys, name: Atom, partitions: Int = 1, meta: [Atom: any Sendable] = [:]
    ) async throws -> Pid {
        guard let caller = ProcessCell.current else { throw RegistryError.notInProcess("Registry.startLink") }
        guard partitions >= 1 else { throw RegistryError.invalidPartitions(partitions) }
        guard name.name != "undefined" else { throw RegistryError.reservedName(name) }
        if let holder = whereis(name) { throw RegistryError.alreadyStarted(holder) }
        let config = RegistryOwner.Config(name: name, kind: keys, partitions: partitions, meta: meta)
        return try await RegistryOwner.start(config, from: caller)
    }

    /// Stops the registry: its partition processes exit with `shutdown`,
    /// its entries and its name go, then its process exits with `reason`.
    /// When this returns, the name is free for a new registry.
    ///
    /// Like Elixir's, a registered process is linked to its partition: one
    /// that does not trap exits is taken down by the `shutdown` signal.
    ///
    /// - Throws: ``RegistryError/unknownRegistry(_:)`` if it is not running,
    ///   ``CallError/timeout`` if it did not stop within `timeout`.
    public func stop(_ reason: ExitReason = .normal, timeout: Timeout = .infinity) async throws {
        guard let root = whereisRoot() else { throw RegistryError.unknownRegistry(name) }
        do {
            let _: Atom = try await Calls.call(root, RegistryOwner.Request.stop(reason), timeout: timeout)
        } catch let error as CallError where error == .noproc {
            throw RegistryError.unknownRegistry(name)
        }
    }

    // MARK: Machinery

    /// The running registry, or ``RegistryError/unknownRegistry(_:)``.
    func table() throws(RegistryError) -> RegistryTable {
        guard let table = RegistryDirectory.table(named: name) else { throw .unknownRegistry(name) }
        return table
    }

    private func whereisRoot() -> Pid? { RegistryDirectory.table(named: name)?.root }

    /// The calling process, for the operations that register or unregister it.
    static func caller(_ function: String) throws(RegistryError) -> ProcessCell {
        guard let cell = ProcessCell.current else { throw .notInProcess(function) }
        return cell
    }
}
