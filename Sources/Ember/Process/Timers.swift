import Synchronization

/// A message scheduled with ``sendAfter(_:_:milliseconds:)``; cancel it with
/// ``cancelTimer(_:)``.
public struct TimerReference: Sendable, Hashable {
    let delivery: DelayedMessage

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
/// was already sent stays in the mailbox; one not sent yet never is.
public func cancelTimer(_ timer: TimerReference) {
    timer.delivery.settle()
}

/// The target of a `sendAfter` timer.
final class DelayedMessage: TimerTarget {
    let pid: Pid
    let message: any Sendable
    /// Set once, by whichever comes first: the timer (which then sends) or a cancel.
    private let settled = Atomic<Bool>(false)

    init(pid: Pid, message: any Sendable) {
        self.pid = pid
        self.message = message
    }

    /// True for the first caller only.
    @discardableResult
    func settle() -> Bool {
        !settled.exchange(true, ordering: .acquiringAndReleasing)
    }

    func timerFired(token: UInt64) {
        // The queue found the timer pending before it fired; a cancel since
        // then must still win.
        if settle() { pid.cell?.deliver(message) }
    }

    func isTimerPending(token: UInt64) -> Bool {
        !settled.load(ordering: .relaxed)
    }
}
