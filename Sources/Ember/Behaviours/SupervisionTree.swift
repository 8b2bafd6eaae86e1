import Logging
import ServiceLifecycle
import Synchronization

/// A supervision tree that runs as a swift-service-lifecycle `Service`, so an
/// application runs it in a `ServiceGroup` beside its HTTP server.
///
/// ```swift
/// let tree = SupervisionTree(children: [.worker(id: "cache") { try await Cache.startLink(()) }])
/// let group = ServiceGroup(services: [tree, httpServer], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
///
/// On graceful shutdown (SIGTERM) or cancellation the tree stops in reverse
/// start order, each child within its shutdown timeout, and `run` returns. If
/// the tree gives up on its own (restart intensity exceeded), `run` throws
/// ``SupervisionTree/Exited``, so the group can shut the application down.
public struct SupervisionTree: Service {
    let children: [Supervisor.ChildSpec]
    let strategy: Supervisor.Strategy
    let maxRestarts: Int
    let maxSeconds: Int
    let name: ProcessName?

    /// The tree exited by itself, with `reason`.
    public struct Exited: Error, CustomStringConvertible {
        public let reason: ExitReason
        public var description: String { "the supervision tree exited: \(reason)" }
    }

    public init(
        children: [Supervisor.ChildSpec], strategy: Supervisor.Strategy = .oneForOne,
        maxRestarts: Int = 3, maxSeconds: Int = 5, name: ProcessName? = nil
    ) {
        self.children = children
        self.strategy = strategy
        self.maxRestarts = maxRestarts
        self.maxSeconds = maxSeconds
        self.name = name
    }

    /// Why the owner process stops waiting.
    private enum Event: Sendable {
        case stop
        case exited(ExitReason)
    }

    public func run() async throws {
        let owner = Mutex<Pid?>(nil)
        let stopRequested = Mutex(false)
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await withProcess {
                try trapExits(true)
                let me = try Pid.current
                owner.withLock { $0 = me }
                let supervisor = try await Supervisor.startLink(
                    children: children, strategy: strategy, maxRestarts: maxRestarts, maxSeconds: maxSeconds, name: name)
                // A shutdown that came while the tree was starting.
                if stopRequested.withLock({ $0 }) { send(me, Event.stop) }
                let event = try await receive { (message: any Sendable) -> Event? in
                    if let event = message as? Event { return event }
                    if let exit = message as? ExitMessage, exit.from == supervisor { return .exited(exit.reason) }
                    return nil
                }
                switch event {
                case .stop: try await Supervisor.stop(supervisor, reason: .shutdown)
                case .exited(let reason): throw Exited(reason: reason)
                }
            }
        } onCancelOrGracefulShutdown: {
            stopRequested.withLock { $0 = true }
            if let pid = owner.withLock({ $0 }) { send(pid, Event.stop) }
        }
    }
}
