/// Who made a call: the caller and the call's reference (Elixir's `from`).
/// A server answers with ``GenServer/reply(_:_:)``, now or later.
public struct From: Sendable, Hashable, CustomStringConvertible {
    /// The calling process.
    public let pid: Pid
    let ref: Reference

    public var description: String { "{\(pid), \(ref)}" }
}

/// A synchronous request in a server's mailbox (Elixir's `{:"$gen_call", from, request}`).
struct CallMessage: Sendable {
    let from: From
    let request: any Sendable
}

/// The answer to a call, delivered only while the caller still waits for it.
struct CallReply: Sendable {
    let ref: Reference
    let value: any Sendable
}

/// Why a call failed. Uncaught, it ends the caller, as a failed
/// `GenServer.call` exits the caller in Elixir.
public struct CallError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Kind: Equatable, Sendable {
        case timeout
        case exited(ExitReason)
        case unexpectedReply(String)
    }

    let kind: Kind

    /// No reply came within the timeout.
    public static let timeout = CallError(kind: .timeout)
    /// The server was not alive when called.
    public static let noproc = CallError(kind: .exited(.noproc))
    /// The server exited with `reason` before replying.
    public static func exited(_ reason: ExitReason) -> CallError { CallError(kind: .exited(reason)) }
    /// The server replied with `value`, not of the type the caller expects.
    @usableFromInline
    static func unexpectedReply(_ value: any Sendable) -> CallError {
        CallError(kind: .unexpectedReply(String(describing: type(of: value))))
    }

    /// The reason the caller exits with, as Elixir would have it: `:timeout`,
    /// `:noproc` or the server's exit reason.
    public var reason: ExitReason {
        switch kind {
        case .timeout: "timeout"
        case .exited(let reason): reason
        case .unexpectedReply: "bad_reply"
        }
    }

    public var description: String {
        switch kind {
        case .timeout: "the call timed out"
        case .exited(let reason): "the server exited (\(reason))"
        case .unexpectedReply(let type): "the server replied with a value of type \(type)"
        }
    }
}

/// The call protocol shared by GenServer, Agent and the supervisors.
@usableFromInline
enum Calls {
    /// Sends `request` to `server` and waits for its reply, as Elixir's
    /// `GenServer.call`: the server is monitored for the duration, a late reply
    /// is dropped. Outside a process, the call is made from a temporary one.
    ///
    /// Inlinable, so that the reply's cast is specialised where the call is made.
    @inlinable
    static func call<Reply: Sendable>(
        _ server: Pid, _ request: any Sendable, timeout: Timeout
    ) async throws -> Reply {
        let value = try await callUntyped(server, request, timeout: timeout)
        guard let typed = cast(value, to: Reply.self) else { throw CallError.unexpectedReply(value) }
        return typed
    }

    @usableFromInline
    static func callUntyped(_ server: Pid, _ request: any Sendable, timeout: Timeout) async throws -> any Sendable {
        guard let me = ProcessCell.current else {
            return try await withProcess { try await callUntyped(server, request, timeout: timeout) }
        }
        // The call's reference is its alias and the reference of a monitor on
        // the server, both kept in the caller's call slot (PendingCall).
        // A pid without a cell names no process of this node: nobody to call.
        guard let serverCell = server.cell else { throw CallError.noproc }
        let ref = Runtime.shared.makeReference()
        guard me.withState({ $0.beginCall(ref, server: serverCell) }) else {
            throw me.exitError()
        }
        let myPid = me.pid
        // Boxed outside the server's lock; monitored and queued under it at once.
        var message = Optional(Envelope(boxing: CallMessage(from: From(pid: myPid, ref: ref), request: request)))
        guard let delivery = serverCell.withState({
            $0.acceptCall(message.take().unsafelyUnwrapped, ref: ref, from: myPid, callerAlive: me.isAlive)
        }) else {
            _ = me.withState { $0.endCall(ref) }
            throw CallError.noproc
        }
        me.chargeSend()
        serverCell.complete(delivery)
        // Received here rather than through a generic helper: an async call
        // of its own would cost each call a frame allocation. The outcome is
        // kept in two plain optionals: an optional enum of both would be
        // tested through its value witnesses at every message.
        var reply: (any Sendable)?
        var down: ExitReason?
        let wanted = (any Sendable).self
        let handingOff = ProcessCell.mayHandOff(waiting: timeout)
        var scanned = 0
        if try !me.receiveArrived(accepting: wanted, handingOff: handingOff, scanned: &scanned, {
            Self.take($0, for: ref, reply: &reply, down: &down)
        }) {
            _ = try await me.receive(timeout: timeout, accepting: wanted, scanned: scanned) {
                Self.take($0, for: ref, reply: &reply, down: &down)
            }
        }
        // From here on a reply or DOWN for this call is dropped; one that came
        // meanwhile and was not taken is removed. (No call is left if the
        // process was killed meanwhile: its exit removed the monitor.)
        let ended = me.withState { $0.endCall(ref) }
        if let ended, !ended.downDelivered { serverCell.withState { $0.removeCallMonitor(ref) } }
        let strayDown = ended?.downDelivered == true, strayReply = ended?.replied == true
        if let reply {
            if strayDown { me.removeMessages { ($0 as? DownMessage)?.ref == ref } }
            return reply
        }
        if let down {
            if strayReply { me.removeMessages { ($0 as? CallReply)?.ref == ref } }
            throw CallError.exited(down)
        }
        if strayDown || strayReply {
            me.removeMessages { ($0 as? DownMessage)?.ref == ref || ($0 as? CallReply)?.ref == ref }
        }
        throw CallError.timeout
    }

    /// Takes the reply or the server's DOWN for the call `ref` into `reply` or
    /// `down`; false for any other message. The runtime sends both as their
    /// own types: compared, never cast.
    private static func take(
        _ envelope: Envelope, for ref: Reference, reply: inout (any Sendable)?, down: inout ExitReason?
    ) -> Bool {
        if let box = envelope.boxed(CallReply.self) {
            guard box.value.ref == ref else { return false }
            reply = box.value.value
            return true
        }
        if let box = envelope.boxed(DownMessage.self), box.value.ref == ref {
            down = box.value.reason
            return true
        }
        return false
    }

    /// Calls the process registered as `name`.
    static func call<Reply: Sendable>(
        _ name: Atom, _ request: any Sendable, timeout: Timeout
    ) async throws -> Reply {
        guard let server = whereis(name) else { throw CallError.noproc }
        return try await call(server, request, timeout: timeout)
    }

    /// Answers the call `from`. Does nothing if the caller stopped waiting.
    static func reply(_ from: From, _ value: any Sendable) {
        guard let cell = from.pid.cell else { return }
        // Boxed here, outside the caller's lock, and moved in.
        var reply = Optional(Envelope(boxing: CallReply(ref: from.ref, value: value)))
        cell.complete(cell.withState { $0.deliverReply(from.ref, reply.take().unsafelyUnwrapped) })
    }
}
