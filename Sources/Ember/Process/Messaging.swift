/// Sends `message` to `pid` and returns the message, like Elixir's `send/2`.
///
/// Sending never blocks and never fails: a message to a process that has
/// exited (or never existed) is silently dropped. Messages from one process
/// to another arrive in the order they were sent.
///
/// ```swift
/// send(parent, (Atom("hello"), try Pid.current))
/// ```
@inlinable
@discardableResult
public func send<Message: Sendable>(_ pid: Pid, _ message: Message) -> Message {
    // Inlined, so that the message is boxed as its own type (see `Envelope`).
    ProcessCell.send(copy message, to: pid.cell)
    return message
}

/// Sends `message` to the process registered as `name`.
///
/// - Throws: ``ProcessError/unknownName(_:)`` if no process has that name,
///   as Elixir raises for `send(:unknown, msg)`.
@discardableResult
public func send<Message: Sendable>(_ name: Atom, _ message: Message) throws(ProcessError) -> Message {
    guard let pid = whereis(name) else { throw .unknownName(name) }
    return send(pid, message)
}

/// Waits for the first message, oldest first, of type `Message` for which
/// `match` returns a value, and returns that value. Every other message stays
/// in the mailbox, in order.
///
/// The matcher plays the role of Elixir's patterns: return nil for "not this
/// one". Swift's `switch` matches enum cases, tuples and literals:
///
/// ```swift
/// let text = try await receive { (message: (Atom, String)) -> String? in
///     switch message {
///     case ("hello", let text): text
///     case ("world", _): "won't match"
///     default: nil
///     }
/// }
/// ```
///
/// - Throws: ``ProcessError/notInProcess(_:)`` outside a process; the
///   process's ``ExitReason`` if it is killed (or exits through a signal)
///   while waiting, so its code unwinds; and whatever `match` throws.
@inlinable @inline(__always)
public func receive<Message, Result>(
    _ match: (Message) throws -> Result?
) async throws -> Result {
    // Without a timeout the wait only ends with a match (or a throw).
    try await receive(after: .infinity, match)!
}

/// Like ``receive(_:)``, giving up after `timeout` (Elixir's `after`):
/// returns nil if no message matched in time. `after: 0` only looks at the
/// messages already there; ``Timeout/infinity`` waits for ever.
///
/// ```swift
/// let result = try await receive(after: 1_000) { (m: (Atom, String)) -> String? in
///     m.0 == "hello" ? m.1 : nil
/// } ?? "nothing after 1s"
/// ```
@inlinable @inline(__always)
public func receive<Message, Result>(
    after timeout: Timeout,
    _ match: (Message) throws -> Result?
) async throws -> Result? {
    // Both halves of the receive are here, inlined into the caller's frame:
    // the typed cast is specialised, and an async call of its own would cost
    // every receive that waits a frame allocation. The untyped core gets
    // closure literals (a local function would make `result` a checked
    // capture), which keep what `match` returns in `result`. A receive that
    // need not wait (what arrived, or what a hand-off brings: see
    // `Worker.handOff()`) is done synchronously, before any async call.
    var result: Result?
    let handingOff = ProcessCell.mayHandOff(waiting: timeout)
    let arrived = try ProcessCell.receiveArrived("receive", accepting: Message.self, handingOff: handingOff) {
        try ProcessCell.accept($0, match, into: &result)
    }
    guard case .mustWait(let current, let scanned) = arrived else { return result }
    _ = try await current.takeUnretainedValue().receive(timeout: timeout, accepting: Message.self, scanned: scanned) {
        try ProcessCell.accept($0, match, into: &result)
    }
    return result
}

extension ProcessCell {
    /// Sends `message` from the current task to `receiver` (nil: a process
    /// that is gone), as ``send(_:_:)-(Pid,_)`` does, but consumed: boxed
    /// without a copy and not handed back. For the runtime's own messages,
    /// whose every copy costs a retain per reference and a value-witness
    /// call per existential in them (a call's request, three copies a call).
    @inlinable
    static func send<Message: Sendable>(_ message: consuming Message, to receiver: ProcessCell?) {
        if chargeSendOfCurrent() { receiver?.deliver(Envelope(boxing: message)) }
    }

    /// The typed half of a receive: casts the message to `Message` (the cast
    /// specialised where the receive is inlined) and keeps what `match`
    /// returns. True if it took the message.
    @inlinable
    static func accept<Message, Result>(
        _ envelope: Envelope, _ match: (Message) throws -> Result?, into result: inout Result?
    ) throws -> Bool {
        guard let typed = envelope.value(as: Message.self), let value = try match(typed) else { return false }
        result = value
        return true
    }
}

/// Receives the next message of type `Message`, whatever its value.
@inlinable @inline(__always)
public func receive<Message>(_ type: Message.Type) async throws -> Message {
    try await receive { (message: Message) in message }
}

/// Receives the next message of type `Message`, or nil after `timeout`.
@inlinable @inline(__always)
public func receive<Message>(_ type: Message.Type, after timeout: Timeout) async throws -> Message? {
    try await receive(after: timeout) { (message: Message) in message }
}

/// Removes and returns every message in the calling process's mailbox, in
/// order (iex's `flush/0`, which prints them).
///
/// - Throws: ``ProcessError/notInProcess(_:)`` outside a process;
///   ``ProcessError/insideMatcher(_:)`` from a receive's matcher.
@discardableResult
public func flush() throws(ProcessError) -> [any Sendable] {
    try ProcessCell.required("flush").takeAll()
}
