/// A name a server can be registered and reached under: a local atom
/// (`"counter"`, Elixir's `name: :counter`) or a key in a ``Registry``
/// (Elixir's `{:via, Registry, {registry, key}}`).
///
/// ```swift
/// try await Counter.startLink(0, name: "counter")
/// try await Counter.startLink(0, name: .via("sessions", key: userID))
/// ```
public struct ProcessName: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        case local(Atom)
        case via(registry: Atom, key: RegistryKey)
    }

    let kind: Kind

    /// A name in this node's process registry.
    public static func local(_ atom: Atom) -> ProcessName { ProcessName(kind: .local(atom)) }

    /// A unique key in the ``Registry`` named `registry`.
    public static func via<Key: Hashable & Sendable>(_ registry: Atom, key: Key) -> ProcessName {
        ProcessName(kind: .via(registry: registry, key: RegistryKey(key)))
    }

    public init(stringLiteral name: String) { self.kind = .local(Atom(name)) }
    private init(kind: Kind) { self.kind = kind }

    public var description: String {
        switch kind {
        case .local(let atom): atom.description
        case .via(let registry, let key): "{:via, Registry, {\(registry), \(key)}}"
        }
    }

    /// The process registered under this name, if any.
    public func whereis() -> Pid? {
        switch kind {
        case .local(let atom): Ember.whereis(atom)
        case .via(let registry, let key): (try? Registry.whereisName(registry, key)) ?? nil
        }
    }

    /// Registers `pid` (for a registry key: the calling process) under this name.
    func register(_ pid: Pid) throws(ProcessError) {
        switch kind {
        case .local(let atom):
            try Ember.register(pid, as: atom)
        case .via(let registry, let key):
            do {
                try Registry.registerName(registry, key, pid)
            } catch {
                if case .alreadyRegistered = error.code { throw .nameTaken(Atom(description)) }
                throw .unknownName(Atom(description))
            }
        }
    }
}
