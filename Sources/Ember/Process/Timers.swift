import Synchronization

/// A message scheduled with ``sendAfter(_:_:milliseconds:)``; cancel it with
/// ``cancelTimer(_:)``.
public struct TimerReference: Sendable, Hashable {
    fileprivate let delivery: DelayedMessage

    public static func == (lhs: TimerReference, rhs: TimerReference) -> Bool { lhs.delivery === rhs.delivery }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(delivery)) }
}

/// Sends `message` to `pid` after `milliseconds` (Elixir's `Process.send_after/3`).
/// The timer is kept by the scheduler; nothing runs until it fires.
///
/// ```swift
/// let timer = sendAfter(try Pid.current, Atom("tick"), milliseconds: 1_000)
/// ```
@discardableResult
public func sendAfter<Message: Sendable>(_ pid: Pid, _ message: Message, milliseconds: Int) -> TimerReference {
    let delivery = DelayedMessage(pid: pid, message: message)
    let nanoseconds = UInt64(max(0, milliseconds)).multipliedReportingOverflow(by: 1_000_000)
    Runtime.shared.scheduler.timers.schedule(
        after: nanoseconds.overflow ? UInt64.max : nanoseconds.partialValue, target: delivery, token: 0)
    return TimerReference(delivery: delivery)
}

/// Cancels a timer made by ``sendAfter(_:_:milliseconds:)``. A message that
/// was already sent stays in the mailbox.
public func cancelTimer(_ timer: TimerReference) {
    timer.delivery.cancelled.store(true, ordering: .relaxed)
}

/// The target of a `sendAfter` timer.
private final class DelayedMessage: TimerTarget {
    let pid: Pid
    let message: any Sendable
    let cancelled = Atomic<Bool>(false)

    init(pid: Pid, message: any Sendable) {
        self.pid = pid
        self.message = message
    }

    func timerFired(token: UInt64) {
        pid.cell?.deliver(message)
    }

    func isTimerPending(token: UInt64) -> Bool {
        !cancelled.load(ordering: .relaxed)
    }
}
