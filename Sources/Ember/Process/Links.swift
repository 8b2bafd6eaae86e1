/// Links the calling process to `pid`: from now on, when either exits, the
/// other receives an exit signal with the reason (see ``ExitReason``).
/// Linking twice is the same as linking once.
///
/// If `pid` is not alive: a process that traps exits gets an
/// `ExitMessage(from: pid, reason: .noproc)`; otherwise this throws
/// ``ProcessError/noproc(_:)`` (uncaught, it crashes the caller).
///
/// - Throws: ``ProcessError/notInProcess(_:)`` outside a process.
public func link(_ pid: Pid) throws(ProcessError) {
    let me = try ProcessCell.required("link")
    let myPid = me.pid
    guard pid != myPid else { return }
    // Our side first: if the target dies right after accepting the link, its
    // signal finds the link in place.
    _ = me.withState { $0.addLink(pid) }
    let accepted = pid.cell?.withState { $0.addLink(myPid) } ?? false
    guard accepted else {
        let traps = me.withState { state -> Bool in
            state.removeLink(pid)
            return state.trapsExits
        }
        if traps {
            me.deliver(ExitMessage(from: pid, reason: .noproc))
            return
        }
        throw .noproc(pid)
    }
    if let reason = me.withState({ $0.exitReason }) {
        // We were killed meanwhile and our exit did not see the new link.
        pid.cell?.exitSignal(from: myPid, reason: reason, kind: .link)
    }
}

/// Removes the link between the calling process and `pid`, if any. Exit
/// signals of that link still in flight are dropped.
///
/// - Throws: ``ProcessError/notInProcess(_:)`` outside a process.
public func unlink(_ pid: Pid) throws(ProcessError) {
    let me = try ProcessCell.required("unlink")
    me.withState { $0.removeLink(pid) }
    let myPid = me.pid
    pid.cell?.withState { $0.removeLink(myPid) }
}

/// Sets whether the calling process traps exits (Elixir's
/// `Process.flag(:trap_exit, value)`) and returns the previous setting.
///
/// A process that traps exits receives exit signals as ``ExitMessage``s
/// instead of exiting, except an untrappable ``ExitReason/kill``.
///
/// - Throws: ``ProcessError/notInProcess(_:)`` outside a process.
@discardableResult
public func trapExits(_ enabled: Bool) throws(ProcessError) -> Bool {
    let me = try ProcessCell.required("trapExits")
    return me.withState { state in
        defer { state.trapsExits = enabled }
        return state.trapsExits
    }
}

extension Pid {
    /// Sends this process an exit signal with `reason` (Elixir's
    /// `Process.exit(pid, reason)`).
    ///
    /// - ``ExitReason/kill``: the process exits with ``ExitReason/killed``,
    ///   trapping or not.
    /// - ``ExitReason/normal``: ignored, unless the process traps exits (it
    ///   gets a message) or is the caller itself (it exits `normal`).
    /// - anything else: the process exits with `reason`, or gets an
    ///   ``ExitMessage`` if it traps exits.
    ///
    /// The target is dead for everyone at once; its Swift code unwinds at its
    /// next suspension point (a `receive` throws the reason, a `Task.sleep`
    /// is cancelled). Does nothing if the process is not alive.
    public func exit(_ reason: ExitReason) {
        let sender = ProcessCell.current?.pid ?? .external
        cell?.exitSignal(from: sender, reason: reason, kind: .exit)
    }
}
