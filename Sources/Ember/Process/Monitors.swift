/// Starts monitoring `pid` and returns the monitor's reference. When the
/// process exits, a ``DownMessage`` with that reference and the exit reason
/// arrives; if it is already gone, the message (reason ``ExitReason/noproc``)
/// arrives at once. Each call creates an independent monitor.
///
/// ```swift
/// let ref = try monitor(pid)
/// let down = try await receive { (m: DownMessage) in m.ref == ref ? m : nil }
/// ```
///
/// - Throws: ``ProcessError/notInProcess(_:)`` outside a process.
@discardableResult
public func monitor(_ pid: Pid) throws(ProcessError) -> Reference {
    let me = try ProcessCell.required("monitor")
    let ref = Runtime.shared.makeReference()
    me.withState { $0.startMonitoring(pid, ref: ref) }
    let myPid = me.pid
    let accepted = pid.cell?.withState { $0.addMonitor(ref, by: myPid) } ?? false
    if !accepted {
        let down = DownMessage(ref: ref, pid: pid, reason: .noproc)
        me.complete(me.withState { $0.deliverDown(down) })
    }
    return ref
}

/// Removes the monitor `ref`. After it returns no ``DownMessage`` for it will
/// arrive; with `flush: true` one that already arrived is removed too.
/// Returns false if the monitor was not active (already fired or removed).
///
/// - Throws: ``ProcessError/notInProcess(_:)`` outside a process;
///   ``ProcessError/insideMatcher(_:)`` with `flush: true` from a receive's
///   matcher (before removing anything).
@discardableResult
public func demonitor(_ ref: Reference, flush: Bool = false) throws(ProcessError) -> Bool {
    let me = try ProcessCell.required("demonitor")
    if flush && me.isMatching { throw .insideMatcher("demonitor") }
    let target = me.withState { $0.stopMonitoring(ref) }
    target?.cell?.withState { $0.removeMonitor(ref) }
    if flush {
        me.removeMessages { ($0 as? DownMessage)?.ref == ref }
    }
    return target != nil
}
