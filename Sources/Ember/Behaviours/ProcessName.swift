/// A name a server can be registered and reached under: a local atom
/// (`"counter"`), as Elixir's `name: :counter`.
public struct ProcessName: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        case local(Atom)
    }

    let kind: Kind

    /// A name in this node's process registry.
    public static func local(_ atom: Atom) -> ProcessName { ProcessName(kind: .local(atom)) }

    public init(stringLiteral name: String) { self.kind = .local(Atom(name)) }
    private init(kind: Kind) { self.kind = kind }

    public var description: String {
        switch kind {
        case .local(let atom): atom.description
        }
    }

    /// The process registered under this name, if any.
    public func whereis() -> Pid? {
        switch kind {
        case .local(let atom): Ember.whereis(atom)
        }
    }

    /// Registers `pid` under this name.
    func register(_ pid: Pid) throws(ProcessError) {
        switch kind {
        case .local(let atom): try Ember.register(pid, as: atom)
        }
    }
}
