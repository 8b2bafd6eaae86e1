/// Why a supervisor refused a request or failed to start (Elixir's
/// `{:error, reason}` answers of `Supervisor` and `DynamicSupervisor`).
///
/// ```swift
/// do {
///     try await Supervisor.restartChild(supervisor, id: "cache")
/// } catch let error as SupervisorError where error == .running {
///     // it was running already
/// }
/// ```
public struct SupervisorError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Code: Sendable, Equatable {
        case alreadyStarted(Pid)
        case alreadyPresent
        case notFound
        case running
        case restarting
        case startFailed(id: String, reason: ExitReason)
        case maxChildren
        case ignored
        case duplicateChildId(String)
        case invalidOption(String)
        case unexpectedRequest(String)
    }

    let code: Code

    /// A child with this id is running (`pid`), or a process already holds
    /// the supervisor's name (`pid` is that process).
    public static func alreadyStarted(_ pid: Pid) -> SupervisorError { SupervisorError(code: .alreadyStarted(pid)) }
    /// A child with this id exists but is not running: restart or delete it first.
    public static let alreadyPresent = SupervisorError(code: .alreadyPresent)
    /// No child has this id (or pid).
    public static let notFound = SupervisorError(code: .notFound)
    /// The child is running, so it cannot be restarted or deleted.
    public static let running = SupervisorError(code: .running)
    /// The child is being restarted after a failed restart.
    public static let restarting = SupervisorError(code: .restarting)
    /// The child `id` failed to start: its start function threw, and `reason` says why.
    public static func startFailed(id: String, reason: ExitReason) -> SupervisorError {
        SupervisorError(code: .startFailed(id: id, reason: reason))
    }
    /// A ``DynamicSupervisor`` already has its maximum number of children.
    public static let maxChildren = SupervisorError(code: .maxChildren)
    /// The child's start function threw ``StartError/ignored`` (Elixir's
    /// `:ignore`): no process runs; a ``Supervisor`` keeps the spec, with no pid.
    public static let ignored = SupervisorError(code: .ignored)
    /// Two children given to ``Supervisor/startLink(children:strategy:maxRestarts:maxSeconds:name:)`` share an id.
    public static func duplicateChildId(_ id: String) -> SupervisorError { SupervisorError(code: .duplicateChildId(id)) }
    /// An option is out of range (a negative `maxRestarts`, a `maxSeconds` below 1, …).
    public static func invalidOption(_ explanation: String) -> SupervisorError {
        SupervisorError(code: .invalidOption(explanation))
    }

    public var description: String {
        switch code {
        case .alreadyStarted(let pid): "already started: \(pid)"
        case .alreadyPresent: "a child with this id is already present"
        case .notFound: "no such child"
        case .running: "the child is running"
        case .restarting: "the child is restarting"
        case .startFailed(let id, let reason): "the child \(inspect(id)) failed to start: \(reason)"
        case .maxChildren: "the supervisor has its maximum number of children"
        case .ignored: "the child's start returned :ignore"
        case .duplicateChildId(let id): "two children have the id \(inspect(id))"
        case .invalidOption(let explanation): "invalid option: \(explanation)"
        case .unexpectedRequest(let request): "a supervisor does not handle the request \(request)"
        }
    }
}
