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
        Agent(pid: try await AgentServer<State>.start(AgentServer.Initial(make: initial), name: name, timeout: timeout))
    }

    /// Starts an agent linked to the caller.
    ///
    /// - Throws: ``StartError``; ``ProcessError/notInProcess(_:)`` outside a process.
    public static func startLink(
        name: ProcessName? = nil, timeout: Timeout = 5_000,
        _ initial: @escaping @Sendable () async throws -> State
    ) async throws -> Agent {
        Agent(pid: try await AgentServer<State>.startLink(AgentServer.Initial(make: initial), name: name, timeout: timeout))
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
        AgentServer<State>.cast(pid, AgentServer.Operation { state in try change(&state) })
    }

    private func run<Value: Sendable>(
        timeout: Timeout, _ operation: @escaping @Sendable (inout State) throws -> Value
    ) async throws -> Value {
        let reply = try await AgentServer<State>.call(pid, AgentServer.Operation { state in try operation(&state) }, timeout: timeout)
        guard let value = reply as? Value else {
            throw CallError.unexpectedReply(reply)
        }
        return value
    }

    /// Stops the agent with `reason` and waits until it has exited.
    public func stop(reason: ExitReason = .normal, timeout: Timeout = .infinity) async throws {
        try await AgentServer<State>.stop(pid, reason: reason, timeout: timeout)
    }
}

/// The server behind ``Agent``: every request is a function of the state.
struct AgentServer<State>: GenServer {
    struct Initial: Sendable {
        let make: @Sendable () async throws -> State
    }

    struct Operation: Sendable {
        let apply: @Sendable (inout State) throws -> any Sendable
    }

    typealias Request = Operation
    typealias Reply = any Sendable
    typealias Cast = Operation

    var state: State

    static func initialize(_ initial: Initial) async throws -> InitResult<AgentServer> {
        .ok(AgentServer(state: try await initial.make()))
    }

    mutating func handleCall(_ operation: Operation, from: From) async throws -> CallResult<AgentServer> {
        .reply(try operation.apply(&state))
    }

    mutating func handleCast(_ operation: Operation) async throws -> HandleResult<AgentServer> {
        _ = try operation.apply(&state)
        return .noReply
    }
}
