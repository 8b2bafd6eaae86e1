/// A constant whose value is its own name, like an Elixir atom (`:hello`).
///
/// Elixir programs tag messages with atoms; in Ember an `Atom` plays that role
/// and a string literal is one, so patterns read like Elixir's:
///
/// ```swift
/// send(pid, (Atom("hello"), "world"))
/// let text = try await receive { (message: (Atom, String)) -> String? in
///     switch message {
///     case ("hello", let text): text
///     default: nil
///     }
/// }
/// ```
public struct Atom: Hashable, Sendable, Comparable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The atom's name, without the leading colon.
    public let name: String

    public init(_ name: String) { self.name = name }
    public init(stringLiteral name: String) { self.name = name }

    /// The atom as Elixir prints it: `:hello`, or `:"with space"` when the name
    /// is not a plain identifier.
    public var description: String {
        let plain = name.first.map { $0.isLetter || $0 == "_" } ?? false
            && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "@" || $0 == "?" || $0 == "!" }
        return plain ? ":\(name)" : ":\"\(name)\""
    }

    public static func < (lhs: Atom, rhs: Atom) -> Bool { lhs.name < rhs.name }

    public static let ok: Atom = "ok"
    public static let error: Atom = "error"
}
