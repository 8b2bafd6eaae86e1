/// A process that holds state, in the shape of Elixir's `Agent`.
///
/// ```swift
/// let agent = try await Agent.startLink { [Atom: Atom]() }
/// try await agent.update { map in map["hello"] = "world" }
/// try await agent.get { map in map["hello"] }   // :world
/// ```
///
/// The functions run inside the agent process, one at a time, so the state
/// needs no lock. An agent is a ``GenServer``; an idle one holds no Swift task.
public struct Agent<State>: Sendable, Hashable, CustomStringConvertible {
    /// The agent's process.
    public let pid: Pid

    /// An agent handle for a pid (for example one found by name).
    public init(pid: Pid) { self.pid = pid }

    public var description: String { pid.description }

    /// Starts an agent whose state is what `initial` returns, run in the new process.
    ///
    /// - Throws: ``StartError`` if `initial` throws or `name` is taken.
    public static func start(
        name: ProcessName? = nil, timeout: Timeout = 5_000,
        _ initial: @escaping @Sendable () async throws -> State
    ) async throws -> Agent {
        Agent(pid: try await AgentServer.start(Self.initial(initial), name: name, timeout: timeout))
    }

    /// Starts an agent linked to the caller.
    ///
    /// - Throws: ``StartError``; ``ProcessError/notInProcess(_:)`` outside a process.
    public static func startLink(
        name: ProcessName? = nil, timeout: Timeout = 5_000,
        _ initial: @escaping @Sendable () async throws -> State
    ) async throws -> Agent {
        Agent(pid: try await AgentServer.startLink(Self.initial(initial), name: name, timeout: timeout))
    }

    /// Returns what `read` makes of the state (Elixir's `Agent.get/3`).
    ///
    /// - Throws: ``CallError`` on timeout or if the agent is gone; if `read`
    ///   throws, the agent crashes with that error and the call fails.
    public func get<Value: Sendable>(
        timeout: Timeout = 5_000, _ read: @escaping @Sendable (State) throws -> Value
    ) async throws -> Value {
        try await run(timeout: timeout) { state in try read(state) }
    }

    /// Changes the state with `change` and returns when it is done.
    public func update(timeout: Timeout = 5_000, _ change: @escaping @Sendable (inout State) throws -> Void) async throws {
        try await run(timeout: timeout, change)
    }

    /// Changes the state and returns a value computed in the same step
    /// (Elixir's `Agent.get_and_update/3`).
    public func getAndUpdate<Value: Sendable>(
        timeout: Timeout = 5_000, _ change: @escaping @Sendable (inout State) throws -> Value
    ) async throws -> Value {
        try await run(timeout: timeout, change)
    }

    /// Changes the state without waiting (Elixir's `Agent.cast/2`).
    public func cast(_ change: @escaping @Sendable (inout State) throws -> Void) {
        AgentServer.cast(pid, AgentServer.Operation { box in try change(&AgentStateBox<State>.of(box).value) })
    }

    private static func initial(_ make: @escaping @Sendable () async throws -> State) -> AgentServer.Initial {
        AgentServer.Initial { AgentStateBox(try await make()) }
    }

    private func run<Value: Sendable>(
        timeout: Timeout, _ operation: @escaping @Sendable (inout State) throws -> Value
    ) async throws -> Value {
        let reply = try await AgentServer.call(
            pid, AgentServer.Operation { box in try operation(&AgentStateBox<State>.of(box).value) }, timeout: timeout)
        guard let value = reply as? Value else {
            throw CallError.unexpectedReply(reply)
        }
        return value
    }

    /// Stops the agent with `reason` and waits until it has exited.
    public func stop(reason: ExitReason = .normal, timeout: Timeout = .infinity) async throws {
        try await AgentServer.stop(pid, reason: reason, timeout: timeout)
    }
}

/// The server behind ``Agent``: every request is a function of the state.
///
/// One concrete type for every agent, the state boxed (``AgentState``): the
/// generic server machinery is then specialised for it, once, here. A server
/// generic over the state would run unspecialised, looking up type metadata
/// and allocating room for each value whose type depends on the state, on
/// every start and every call.
struct AgentServer: GenServer {
    struct Initial: Sendable {
        let make: @Sendable () async throws -> AgentState
    }

    struct Operation: Sendable {
        let apply: @Sendable (AgentState) throws -> any Sendable
    }

    typealias Request = Operation
    typealias Reply = any Sendable
    typealias Cast = Operation

    let state: AgentState

    static func initialize(_ initial: Initial) async throws -> InitResult<AgentServer> {
        .ok(AgentServer(state: try await initial.make()))
    }

    mutating func handleCall(_ operation: Operation, from: From) async throws -> CallResult<AgentServer> {
        .reply(try operation.apply(state))
    }

    mutating func handleCast(_ operation: Operation) async throws -> HandleResult<AgentServer> {
        _ = try operation.apply(state)
        return .noReply
    }
}

/// An agent's state, in a box its functions change in place.
///
/// @unchecked Sendable: only the agent's own process touches the box, one
/// function at a time (the functions run there, in its server loop).
class AgentState: @unchecked Sendable {}

/// The state of an ``Agent`` of `State`.
///
/// @unchecked Sendable: as ``AgentState``.
final class AgentStateBox<State>: AgentState, @unchecked Sendable {
    var value: State

    init(_ value: State) { self.value = value }

    /// The state of `box`, for a function of an `Agent<State>`. A handle
    /// made for a pid with ``Agent/init(pid:)`` may name an agent of another
    /// state: the function then fails, and the agent with it, as a call of
    /// another request type fails a server.
    static func of(_ box: AgentState) throws -> AgentStateBox {
        guard let typed = box as? AgentStateBox else {
            throw GenServerError.unexpected("function", "on a state of type \(State.self)")
        }
        return typed
    }
}
