/// Why a process exited, or the reason carried by an exit signal.
///
/// The well-known reasons have names: ``normal``, ``shutdown``, ``kill``,
/// ``killed``, ``noproc`` and ``noconnection``. Any atom can be a reason
/// (`ExitReason("boom")`, or just `"boom"` where an `ExitReason` is expected),
/// and a process that throws an error exits with ``error(_:)`` of that error.
///
/// `ExitReason` is itself an `Error`: throwing one from a process makes it exit
/// with exactly that reason and, as in Elixir's `exit/1`, logs no crash report.
///
/// ```swift
/// spawn {
///     throw ExitReason.shutdown      // ends this process with reason :shutdown
/// }
/// ```
public struct ExitReason: Error, Sendable, Equatable, ExpressibleByStringLiteral, CustomStringConvertible {
    enum Kind: Sendable {
        case atom(Atom)
        case shutdown(String)
        case error(any Error)
    }

    let kind: Kind

    init(kind: Kind) { self.kind = kind }

    /// A reason named by an atom, such as `:boom`.
    public init(_ atom: Atom) { self.kind = .atom(atom) }
    public init(stringLiteral name: String) { self.kind = .atom(Atom(name)) }

    /// The process finished its work. Links ignore it unless the target traps exits.
    public static let normal = ExitReason("normal")
    /// An orderly stop requested by a supervisor or owner.
    public static let shutdown = ExitReason("shutdown")
    /// Sent with ``Pid/exit(_:)``, cannot be trapped: the target exits with ``killed``.
    public static let kill = ExitReason("kill")
    /// The reason of a process that received an untrappable ``kill``.
    public static let killed = ExitReason("killed")
    /// The process did not exist (linking or monitoring a dead pid).
    public static let noproc = ExitReason("noproc")
    /// The node of the process could not be reached.
    public static let noconnection = ExitReason("noconnection")

    /// `{:shutdown, detail}`: an orderly stop with a detail; like ``shutdown``
    /// it is not reported as a crash.
    public static func shutdown(_ detail: String) -> ExitReason { ExitReason(kind: .shutdown(detail)) }

    /// The process crashed by throwing `error`.
    public static func error(_ error: any Error) -> ExitReason {
        if let reason = error as? ExitReason { return reason }
        return ExitReason(kind: .error(error))
    }

    /// The reason's atom, if it is one (`:normal`, `:boom`).
    public var atom: Atom? {
        if case .atom(let atom) = kind { return atom }
        return nil
    }

    /// The error that crashed the process, if it crashed by throwing.
    public var error: (any Error)? {
        if case .error(let error) = kind { return error }
        return nil
    }

    /// True for ``normal``, ``shutdown`` and `{:shutdown, _}`: the reasons that
    /// are not crashes (no report; transient children are not restarted).
    public var isOrderly: Bool {
        switch kind {
        case .atom(let atom): atom.name == "normal" || atom.name == "shutdown"
        case .shutdown: true
        case .error: false
        }
    }

    public var description: String {
        switch kind {
        case .atom(let atom): atom.description
        case .shutdown(let detail): "{:shutdown, \(detail)}"
        case .error(let error): "an exception was raised:\n    ** \(ExitReason.describe(error))"
        }
    }

    /// An error as Elixir shows an exception: `(RuntimeError) oops`.
    static func describe(_ error: any Error) -> String {
        "(\(type(of: error))) \(error)"
    }

    public static func == (lhs: ExitReason, rhs: ExitReason) -> Bool {
        switch (lhs.kind, rhs.kind) {
        case (.atom(let a), .atom(let b)): a == b
        case (.shutdown(let a), .shutdown(let b)): a == b
        case (.error(let a), .error(let b)):
            type(of: a) == type(of: b) && String(reflecting: a) == String(reflecting: b)
        default: false
        }
    }
}

/// The error of Elixir's `raise "message"`: a crash with a message.
///
/// ```swift
/// spawn { throw RuntimeError("oops") }   // logs: ** (RuntimeError) oops
/// ```
public struct RuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Misuse of the process API: a typed error, never a trap.
public struct ProcessError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Code: Equatable, Sendable {
        case notInProcess(String)
        case noproc(Pid)
        case nameTaken(Atom)
        case alreadyRegistered(Pid, Atom)
        case unknownName(Atom)
        case reservedName(Atom)
        case insideMatcher(String)
    }

    let code: Code

    /// A function that only makes sense inside a process (receive, link, …)
    /// was called from code that is not running in one.
    public static func notInProcess(_ function: String) -> ProcessError { ProcessError(code: .notInProcess(function)) }
    /// The process does not exist (it exited, or never did on this node).
    public static func noproc(_ pid: Pid) -> ProcessError { ProcessError(code: .noproc(pid)) }
    /// Another process is already registered under this name.
    public static func nameTaken(_ name: Atom) -> ProcessError { ProcessError(code: .nameTaken(name)) }
    /// The process already has a registered name.
    public static func alreadyRegistered(_ pid: Pid, as name: Atom) -> ProcessError {
        ProcessError(code: .alreadyRegistered(pid, name))
    }
    /// No process is registered under this name.
    public static func unknownName(_ name: Atom) -> ProcessError { ProcessError(code: .unknownName(name)) }
    /// The name cannot be registered (`:undefined`).
    public static func reservedName(_ name: Atom) -> ProcessError { ProcessError(code: .reservedName(name)) }
    /// A function that takes messages out of the mailbox (`flush`,
    /// `demonitor` with `flush`) was called from a receive's matcher, while
    /// the receive looks through the mailbox.
    public static func insideMatcher(_ function: String) -> ProcessError { ProcessError(code: .insideMatcher(function)) }

    public var description: String {
        switch code {
        case .notInProcess(let function): "\(function) must be called from inside an Ember process"
        case .noproc(let pid): "no process: \(pid) is not alive"
        case .nameTaken(let name): "the name \(name) is already registered"
        case .alreadyRegistered(let pid, let name): "\(pid) is already registered as \(name)"
        case .unknownName(let name): "no process is registered as \(name)"
        case .reservedName(let name): "\(name) cannot be used as a registered name"
        case .insideMatcher(let function): "\(function) cannot take messages out of the mailbox from a receive's matcher"
        }
    }
}
