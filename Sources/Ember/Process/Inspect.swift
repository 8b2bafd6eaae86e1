/// Renders a value the way Elixir's `inspect/1` would: tuples in braces,
/// strings quoted, atoms with a colon, arrays as lists, dictionaries as maps.
///
/// ```swift
/// inspect((Atom("hello"), "world"))   // {:hello, "world"}
/// inspect([1, 2, 3])                  // [1, 2, 3]
/// ```
public func inspect(_ value: Any) -> String {
    switch value {
    case let string as String:
        return String(reflecting: string)
    case let atom as Atom:
        return atom.description
    case let pid as Pid:
        return pid.description
    case let reason as ExitReason:
        return reason.description
    case let convertible as CustomStringConvertible where !(value is any Collection):
        if Mirror(reflecting: value).displayStyle == .tuple { break }
        return convertible.description
    default:
        break
    }
    let mirror = Mirror(reflecting: value)
    switch mirror.displayStyle {
    case .tuple:
        return "{" + mirror.children.map { inspect($0.value) }.joined(separator: ", ") + "}"
    case .collection, .set:
        return "[" + mirror.children.map { inspect($0.value) }.joined(separator: ", ") + "]"
    case .dictionary:
        let pairs = mirror.children.map { child -> String in
            let pair = Mirror(reflecting: child.value).children.map(\.value)
            guard pair.count == 2 else { return inspect(child.value) }
            return "\(inspect(pair[0])) => \(inspect(pair[1]))"
        }
        return "%{" + pairs.joined(separator: ", ") + "}"
    case .optional:
        guard let some = mirror.children.first else { return "nil" }
        return inspect(some.value)
    case .enum where mirror.children.isEmpty:
        return ":\(value)"
    default:
        return String(describing: value)
    }
}
