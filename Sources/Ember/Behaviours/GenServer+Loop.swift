/// Internal messages of the server protocol.
struct CastMessage: Sendable { let request: any Sendable }
struct InitRequest: Sendable {}
enum InitReply: Sendable { case started, ignored, nameTaken(Pid) }
struct StopRequest: Sendable { let reason: ExitReason }
struct ServerTimeout: Sendable { let generation: UInt64 }

/// The server loop of a ``GenServer``: a dormant process's message handler.
///
/// `server`, `timeoutGeneration` and `timer` are touched only by the
/// process's own task, one message at a time; a dormant process passes them
/// to its next task through the process lock (happens-before).
final class GenServerLoop<Server: GenServer>: MessageHandler, @unchecked Sendable {
    // Exclusivity is not checked dynamically: only the process's task touches
    // these (see above), one handler at a time.
    @exclusivity(unchecked) private var server: Server
    private let parent: Pid?
    @exclusivity(unchecked) private var timeoutGeneration: UInt64 = 0
    @exclusivity(unchecked) private var timer: TimerReference?

    init(_ server: Server, parent: Pid?) {
        self.server = server
        self.parent = parent
    }

    func serve(in process: ProcessCell) async throws -> Turn {
        try await process.serve(self)
    }

    /// A `.timeout` is armed: no message came since the handler asked for it.
    var waitsWithTimeout: Bool { timer != nil }

    // Inlined into `serve(in:)`, as `dispatch` and `dispatchCall` are into
    // it: each async call of its own would cost every message a frame
    // allocation.
    @inline(__always)
    func handle(_ envelope: Envelope) async throws {
        // A timeout is rare: compare types rather than attempt a cast on every message.
        if let timeout = envelope.exactly(ServerTimeout.self) {
            // Only the timeout armed last counts; any message since disarmed it.
            guard timeout.generation == timeoutGeneration, timer != nil else { return }
            timer = nil
        } else {
            disarmTimeout()
        }
        do {
            try await dispatch(envelope)
        } catch let reason as ExitReason {
            throw reason
        } catch {
            await server.terminate(.error(error))
            throw error
        }
    }

    // Calls and casts are handled apart: the room for a request of the
    // server's type is then made only for the kind of message that came.
    // Inlined into `handle`: one async frame fewer per message.
    // The server protocol's own messages are always sent as their own
    // types: compared, never cast.
    @inline(__always)
    private func dispatch(_ envelope: Envelope) async throws {
        if let call = envelope.boxed(CallMessage.self) {
            try await dispatchCall(call)
        } else if let cast = envelope.exactly(CastMessage.self) {
            try await dispatchCast(cast)
        } else if let stop = envelope.exactly(StopRequest.self) {
            try await self.stop(stop.reason)
        } else if envelope.exactly(ServerTimeout.self) != nil {
            try await apply(server.handleInfo(Atom("timeout")))
        } else if let exit = envelope.value(as: ExitMessage.self), exit.from == parent {
            // A server trapping exits stops with its parent, running terminate.
            try await stop(exit.reason)
        } else {
            try await apply(server.handleInfo(envelope.message))
        }
    }

    /// The call is read in its box, in place: copying it out would retain
    /// the caller's pid and copy the request through its value witnesses.
    @inline(__always)
    private func dispatchCall(_ call: Boxed<CallMessage>) async throws {
        switch try await server._handleCall(call.value.request, from: call.value.from).kind {
        case .reply(let reply, let next):
            Calls.reply(call.value.from, reply)
            if case .none = next { return }
            try await proceed(next)
        case .noReply(let next):
            try await proceed(next)
        case .stop(let reason, let reply):
            if let reply { Calls.reply(call.value.from, reply) }
            try await stop(reason)
        }
    }

    private func dispatchCast(_ cast: CastMessage) async throws {
        guard let request = Ember.cast(cast.request, to: Server.Cast.self) else {
            throw GenServerError.unexpected("cast", inspect(cast.request))
        }
        try await apply(server.handleCast(request))
    }

    private func apply(_ result: HandleResult<Server>) async throws {
        switch result.kind {
        case .noReply(let next): try await proceed(next)
        case .stop(let reason): try await stop(reason)
        }
    }

    /// Runs what a handler asked for before the next message.
    func proceed(_ next: Next) async throws {
        switch next {
        case .none:
            break
        case .timeout(let milliseconds):
            timeoutGeneration &+= 1
            timer = sendAfter(try Pid.current, ServerTimeout(generation: timeoutGeneration), milliseconds: milliseconds)
        case .continue(let boxed):
            try await continueWith(boxed)
        }
    }

    /// Runs `handleContinue`. Apart, so that `proceed` has no local of a type
    /// of the server's to make room for on every message.
    private func continueWith(_ boxed: any Sendable) async throws {
        // Boxed from a `Server.Continue` by the result that carried it.
        guard let continuation = boxed as? Server.Continue else {
            throw GenServerError.unexpected("continue", inspect(boxed))
        }
        try await apply(server.handleContinue(continuation))
    }

    private func disarmTimeout() {
        guard let timer else { return }
        cancelTimer(timer)
        self.timer = nil
        timeoutGeneration &+= 1
    }

    private func stop(_ reason: ExitReason) async throws -> Never {
        await server.terminate(reason)
        if !reason.isOrderly {
            CrashReport.logger.error(
                "GenServer \((try? Pid.current).map(\.description) ?? "") terminating\n** (stop) \(reason)",
                metadata: ["pid": "\((try? Pid.current).map(\.description) ?? "")", "reason": "\(reason)"])
        }
        throw reason
    }
}
