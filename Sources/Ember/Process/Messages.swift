/// The message an exit signal becomes when the receiving process traps exits:
/// Elixir's `{:EXIT, from, reason}`.
///
/// ```swift
/// trapExits(true)
/// let child = try spawnLink { throw RuntimeError("oops") }
/// let exit = try await receive { (m: ExitMessage) in m.from == child ? m : nil }
/// ```
public struct ExitMessage: Sendable, Equatable, CustomStringConvertible {
    /// The process the signal came from.
    public let from: Pid
    /// The exit reason it carried.
    public let reason: ExitReason

    public init(from: Pid, reason: ExitReason) {
        self.from = from
        self.reason = reason
    }

    public var description: String { "{:EXIT, \(from), \(reason)}" }
}

/// The message a monitor delivers when its process exits: Elixir's
/// `{:DOWN, ref, :process, pid, reason}`.
public struct DownMessage: Sendable, Equatable, CustomStringConvertible {
    /// The reference ``monitor(_:)`` returned.
    public let ref: Reference
    /// The monitored process.
    public let pid: Pid
    /// Why it exited (``ExitReason/noproc`` if it was already gone).
    public let reason: ExitReason

    public init(ref: Reference, pid: Pid, reason: ExitReason) {
        self.ref = ref
        self.pid = pid
        self.reason = reason
    }

    public var description: String { "{:DOWN, \(ref), :process, \(pid), \(reason)}" }
}
