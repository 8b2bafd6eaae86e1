/// Registers `pid` under `name`, so that ``send(_:_:)-(Atom,_)`` and
/// ``whereis(_:)`` find it. The name is freed when the process exits.
///
/// - Throws: ``ProcessError/nameTaken(_:)`` if another process has the name,
///   ``ProcessError/alreadyRegistered(_:as:)`` if `pid` already has a name,
///   ``ProcessError/noproc(_:)`` if `pid` is not alive,
///   ``ProcessError/reservedName(_:)`` for `:undefined`.
public func register(_ pid: Pid, as name: Atom) throws(ProcessError) {
    guard name.name != "undefined" else { throw .reservedName(name) }
    guard let cell = pid.cell else { throw .noproc(pid) }
    let failure: ProcessError? = Runtime.shared.names.withLock { names in
        if names[name] != nil { return .nameTaken(name) }
        let failure: ProcessError? = cell.withState { state in
            guard state.isAlive else { return .noproc(pid) }
            if let existing = state.name { return .alreadyRegistered(pid, as: existing) }
            state.name = name
            return nil
        }
        if failure == nil { names[name] = cell }
        return failure
    }
    if let failure { throw failure }
}

/// Removes the registration of `name`.
///
/// - Throws: ``ProcessError/unknownName(_:)`` if nothing is registered under it.
public func unregister(_ name: Atom) throws(ProcessError) {
    let found = Runtime.shared.names.withLock { names -> Bool in
        guard let cell = names.removeValue(forKey: name) else { return false }
        cell.withState { state in
            if state.name == name { state.name = nil }
        }
        return true
    }
    if !found { throw .unknownName(name) }
}

/// The pid registered under `name`, or nil.
public func whereis(_ name: Atom) -> Pid? {
    Runtime.shared.names.withLock { $0[name]?.pid }
}

/// Every registered name, sorted.
public func registered() -> [Atom] {
    Runtime.shared.names.withLock { Array($0.keys) }.sorted()
}
