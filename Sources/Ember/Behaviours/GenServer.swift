/// A server process with state, in the shape of Elixir's `GenServer`.
///
/// The conforming type *is* the state. It is created by ``initialize(_:)``
/// inside the new process and only ever touched there, one message at a time:
///
/// ```swift
/// struct Counter: GenServer {
///     enum Request: Sendable { case get, add(Int) }
///     var count = 0
///
///     static func initialize(_ start: Int) async throws -> InitResult<Counter> {
///         .ok(Counter(count: start))
///     }
///
///     mutating func handleCall(_ request: Request, from: From) async throws -> CallResult<Counter> {
///         switch request {
///         case .get: return .reply(count)
///         case .add(let n): count += n; return .reply(count)
///         }
///     }
/// }
///
/// let counter = try await Counter.startLink(10, name: "counter")
/// try await Counter.call(counter, .add(5))   // 15
/// ```
///
/// Calls wait for a reply (default timeout 5 seconds); casts and other
/// messages do not. An idle server holds no Swift task: its handlers run
/// only while its mailbox has work.
///
/// The handlers run in the server's own process, so a server type is not
/// isolated to a global actor such as the main actor: its metatype is
/// `SendableMetatype`, and the runtime starts and stops it from other tasks.
public protocol GenServer: SendableMetatype {
    /// What ``initialize(_:)`` receives from `start`/`startLink`.
    associatedtype Argument: Sendable = Void
    /// Synchronous requests (``call(_:_:timeout:)-(Pid,_,_)``).
    associatedtype Request: Sendable = Never
    /// The answer to a request.
    associatedtype Reply: Sendable = Never
    /// Asynchronous requests (``cast(_:_:)-(Pid,_)``).
    associatedtype Cast: Sendable = Never
    /// What a handler asks to be continued with (Elixir's `{:continue, term}`).
    associatedtype Continue: Sendable = Never

    /// Runs in the new process before `start` returns. Return `.ok(state)` to
    /// run, `.ignore` to exit quietly, `.stop(reason)` to fail the start.
    static func initialize(_ argument: Argument) async throws -> InitResult<Self>

    /// Handles a call; reply now, later (``reply(_:_:)``) or stop.
    mutating func handleCall(_ request: Request, from: From) async throws -> CallResult<Self>

    /// Handles a cast.
    mutating func handleCast(_ request: Cast) async throws -> HandleResult<Self>

    /// Handles any other message: exit messages when trapping exits, `DOWN`
    /// messages, timers, and `:timeout` when a handler's timeout passes.
    mutating func handleInfo(_ message: any Sendable) async throws -> HandleResult<Self>

    /// Continues work a handler deferred with `continue:`, before the next message.
    mutating func handleContinue(_ continuation: Continue) async throws -> HandleResult<Self>

    /// Called before the server exits: on a stop result, on ``stop(_:reason:timeout:)``,
    /// when a handler throws, and on its parent's exit signal if it traps exits.
    mutating func terminate(_ reason: ExitReason) async

    /// Machinery, not API: do not implement it. The server loop's way into
    /// ``handleCall(_:from:)``; throws if `request` is not a `Request`. The
    /// default implementation is specialised in the server's own module,
    /// where the request's type is known; the loop, generic code in Ember
    /// that is not specialised for each server, would otherwise make room for
    /// the request, and look its type's metadata up, on every call.
    @_documentation(visibility: internal)
    mutating func _handleCall(_ request: any Sendable, from: From) async throws -> CallResult<Self>
}

extension GenServer {
    public mutating func handleCall(_ request: Request, from: From) async throws -> CallResult<Self> {
        throw GenServerError.unexpected("call", String(describing: request))
    }

    public mutating func handleCast(_ request: Cast) async throws -> HandleResult<Self> {
        throw GenServerError.unexpected("cast", String(describing: request))
    }

    /// By default an unexpected message is logged and dropped, as in Elixir.
    public mutating func handleInfo(_ message: any Sendable) async throws -> HandleResult<Self> {
        CrashReport.logger.error(
            "\(Self.self) \((try? Pid.current).map(\.description) ?? "") received unexpected message in handleInfo: \(inspect(message))")
        return .noReply
    }

    public mutating func handleContinue(_ continuation: Continue) async throws -> HandleResult<Self> {
        throw GenServerError.unexpected("continue", String(describing: continuation))
    }

    public mutating func terminate(_ reason: ExitReason) async {}

    @_documentation(visibility: internal)
    @inlinable @inline(__always)
    public mutating func _handleCall(_ request: any Sendable, from: From) async throws -> CallResult<Self> {
        guard let typed = Ember.cast(request, to: Request.self) else { throw GenServerError.unexpectedCall(request) }
        return try await handleCall(typed, from: from)
    }
}

/// A server's misbehaviour, as a typed error.
public struct GenServerError: Error, Sendable, Equatable, CustomStringConvertible {
    let text: String

    static func unexpected(_ kind: String, _ value: String) -> GenServerError {
        GenServerError(text: "no handler for the \(kind) \(value)")
    }

    @usableFromInline
    static func unexpectedCall(_ request: any Sendable) -> GenServerError {
        unexpected("call", inspect(request))
    }

    public var description: String { text }
}
