// The results below keep what they carry type-erased (a reply or a
// continuation as `any Sendable`), in non-generic enums: every server's
// results then share one layout, and the server loop, generic code that is
// not specialised for each server, handles them without instantiating type
// metadata on every message. The handlers' results are made inline, in the
// server's own module, where the boxing is specialised.

/// What ``GenServer/initialize(_:)`` decides.
public struct InitResult<Server: GenServer> {
    enum Kind {
        case ok(Server, Next)
        case ignore
        case stop(ExitReason)
    }

    let kind: Kind

    /// Run with this state.
    public static func ok(_ state: Server) -> InitResult { InitResult(kind: .ok(state, .none)) }
    /// Run with this state; if no message comes within `timeout`, `handleInfo` gets `:timeout`.
    public static func ok(_ state: Server, timeout: Int) -> InitResult { InitResult(kind: .ok(state, .timeout(timeout))) }
    /// Run with this state, starting with `handleContinue(continuation)`.
    public static func ok(_ state: Server, continue continuation: Server.Continue) -> InitResult {
        InitResult(kind: .ok(state, .continue(continuation)))
    }
    /// Do not run: the process exits `normal` and `start` throws ``StartError/ignored``.
    public static var ignore: InitResult { InitResult(kind: .ignore) }
    /// Fail: the process exits with `reason` and `start` throws ``StartError/failed(_:)``.
    public static func stop(_ reason: ExitReason) -> InitResult { InitResult(kind: .stop(reason)) }
}

/// What ``GenServer/handleCall(_:from:)`` decides.
public struct CallResult<Server: GenServer> {
    @usableFromInline let kind: CallOutcome

    @usableFromInline init(kind: CallOutcome) { self.kind = kind }

    /// Answer the caller now.
    @inlinable
    public static func reply(_ reply: Server.Reply) -> CallResult { CallResult(kind: .reply(reply, .none)) }
    /// Answer now; `:timeout` comes to `handleInfo` if no message follows within `timeout` ms.
    @inlinable
    public static func reply(_ reply: Server.Reply, timeout: Int) -> CallResult { CallResult(kind: .reply(reply, .timeout(timeout))) }
    /// Answer now, then run `handleContinue(continuation)`.
    @inlinable
    public static func reply(_ reply: Server.Reply, continue continuation: Server.Continue) -> CallResult {
        CallResult(kind: .reply(reply, .continue(continuation)))
    }
    /// Answer later with ``GenServer/reply(_:_:)``.
    @inlinable
    public static var noReply: CallResult { CallResult(kind: .noReply(.none)) }
    /// Answer later, continuing first with `handleContinue(continuation)`.
    @inlinable
    public static func noReply(continue continuation: Server.Continue) -> CallResult {
        CallResult(kind: .noReply(.continue(continuation)))
    }
    /// Stop with `reason`, answering the caller first if `reply` is given.
    @inlinable
    public static func stop(_ reason: ExitReason, reply: Server.Reply? = nil) -> CallResult {
        CallResult(kind: .stop(reason, reply))
    }
}

/// A ``CallResult``, its reply boxed.
@usableFromInline
enum CallOutcome {
    case reply(any Sendable, Next)
    case noReply(Next)
    case stop(ExitReason, (any Sendable)?)
}

/// What a cast, info or continue handler decides.
public struct HandleResult<Server: GenServer> {
    @usableFromInline let kind: HandleOutcome

    @usableFromInline init(kind: HandleOutcome) { self.kind = kind }

    /// Go on with the next message.
    @inlinable
    public static var noReply: HandleResult { HandleResult(kind: .noReply(.none)) }
    /// Go on; `:timeout` comes to `handleInfo` if no message follows within `timeout` ms.
    @inlinable
    public static func noReply(timeout: Int) -> HandleResult { HandleResult(kind: .noReply(.timeout(timeout))) }
    /// Go on with `handleContinue(continuation)` first.
    @inlinable
    public static func noReply(continue continuation: Server.Continue) -> HandleResult {
        HandleResult(kind: .noReply(.continue(continuation)))
    }
    /// Stop with `reason`.
    @inlinable
    public static func stop(_ reason: ExitReason) -> HandleResult { HandleResult(kind: .stop(reason)) }
}

/// A ``HandleResult``.
@usableFromInline
enum HandleOutcome {
    case noReply(Next)
    case stop(ExitReason)
}

/// What a server does after a handler, before the next message. The
/// continuation is the server's `Continue`, boxed.
@usableFromInline
enum Next {
    case none
    case timeout(Int)
    case `continue`(any Sendable)
}

/// Why a server did not start.
public struct StartError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Kind: Equatable, Sendable {
        case ignored
        case failed(ExitReason)
        case alreadyStarted(Pid)
        case timeout
    }

    let kind: Kind

    /// `initialize` returned `.ignore`.
    public static let ignored = StartError(kind: .ignored)
    /// `initialize` returned `.stop(reason)`, threw, or the process died starting.
    public static func failed(_ reason: ExitReason) -> StartError { StartError(kind: .failed(reason)) }
    /// The name is taken by this process (Elixir's `{:error, {:already_started, pid}}`).
    public static func alreadyStarted(_ pid: Pid) -> StartError { StartError(kind: .alreadyStarted(pid)) }
    /// `initialize` did not finish within the start timeout.
    public static let timeout = StartError(kind: .timeout)

    public var description: String {
        switch kind {
        case .ignored: ":ignore"
        case .failed(let reason): "the server failed to start: \(reason)"
        case .alreadyStarted(let pid): "already started: \(pid)"
        case .timeout: "the server did not start in time"
        }
    }
}
