import Synchronization
import Testing

@testable import Ember

/// Children that tell the test what happens to them, for the supervisor tests.
enum SupervisionFixture {
    /// What the test process hears. `started` is sent by the supervisor's
    /// process (from the start function) and `stopping` by the child when an
    /// exit signal reaches it, so their order in the test's mailbox is the
    /// order in which things happened.
    enum Event: Sendable, Equatable, CustomStringConvertible {
        case started(String, Pid)
        case stopping(String, ExitReason)

        var description: String {
            switch self {
            case .started(let id, _): "started \(id)"
            case .stopping(let id, let reason): "stopping \(id) \(reason)"
            }
        }
    }

    /// What the test tells a child to do.
    enum Command: Sendable {
        case crash
        case exit(ExitReason)
    }

    /// Counts the calls of a start function.
    final class Attempts: Sendable {
        private let count = Atomic<Int>(0)
        /// Counts one more and returns how many there were so far.
        func next() -> Int { count.add(1, ordering: .relaxed).newValue }
        var total: Int { count.load(ordering: .relaxed) }
    }

    private struct Ready: Sendable { let pid: Pid }
    private enum Incoming { case exit(ExitMessage), command(Command) }

    /// A worker that traps exits and reports them to `observer` before
    /// exiting with their reason (or carries on, if it ignores shutdown).
    /// Its start function returns once the child traps exits, as a real
    /// `startLink` returns once its process is initialised.
    static func worker(
        _ id: String, reportingTo observer: Pid, restart: Supervisor.Restart = .permanent,
        shutdown: Supervisor.Shutdown = .timeout(5_000), ignoresShutdown: Bool = false
    ) -> Supervisor.ChildSpec {
        .worker(id: id, restart: restart, shutdown: shutdown) {
            let supervisor = try Pid.current
            let pid = try spawnLink {
                try trapExits(true)
                send(supervisor, Ready(pid: try Pid.current))
                try await serve(id, observer: observer, ignoresShutdown: ignoresShutdown)
            }
            _ = try await receive { (ready: Ready) in ready.pid == pid ? ready : nil }
            send(observer, Event.started(id, pid))
            return pid
        }
    }

    private static func serve(_ id: String, observer: Pid, ignoresShutdown: Bool) async throws {
        while true {
            let incoming = try await receive { (message: any Sendable) -> Incoming? in
                if let exit = message as? ExitMessage { return .exit(exit) }
                if let command = message as? Command { return .command(command) }
                return nil
            }
            switch incoming {
            case .exit(let exit):
                send(observer, Event.stopping(id, exit.reason))
                if !ignoresShutdown { throw exit.reason }
            case .command(.crash):
                throw RuntimeError("\(id) crashed")
            case .command(.exit(let reason)):
                throw reason
            }
        }
    }

    /// A child whose start function throws.
    static func failing(_ id: String, announcingTo observer: Pid? = nil) -> Supervisor.ChildSpec {
        .worker(id: id) {
            if let observer { send(observer, try Pid.current) }
            throw RuntimeError("\(id) cannot start")
        }
    }

    /// A child whose first start succeeds and every later one throws
    /// `failure`; `starts` counts the attempts. Its process crashes with
    /// "crashed" when sent any ``Command``.
    static func startsOnce(_ id: String, counting starts: Attempts, thenFailing failure: String) -> Supervisor.ChildSpec {
        .worker(id: id) {
            guard starts.next() == 1 else { throw RuntimeError(failure) }
            return try spawnLink { _ = try await receive(Command.self); throw RuntimeError("crashed") }
        }
    }

    /// Waits for the supervisor to report that it started `id`; returns the pid.
    static func started(_ id: String) async throws -> Pid {
        let pid = try await receive(after: 10_000) { (event: Event) -> Pid? in
            if case .started(id, let pid) = event { return pid }
            return nil
        }
        return try #require(pid, "\(id) was not started")
    }

    /// The next `count` events, in the order they arrived, as text.
    static func nextEvents(_ count: Int) async throws -> [String] {
        var events: [String] = []
        for _ in 0..<count {
            let event = try await receive(Event.self, after: 10_000)
            events.append(event?.description ?? "nothing")
        }
        return events
    }

    /// The events already in the mailbox, as text.
    static func pendingEvents() async throws -> [String] {
        var events: [String] = []
        while let event = try await receive(Event.self, after: 0) { events.append(event.description) }
        return events
    }

    /// Makes `child` exit through `command` and waits until it has: its
    /// supervisor has the exit message by then (links fire before monitors).
    static func make(_ child: Pid, _ command: Command) async throws -> ExitReason? {
        let ref = try monitor(child)
        send(child, command)
        return try await down(ref)?.reason
    }

    /// The pid of the child `id`.
    static func pid(of id: String, in supervisor: Pid) async throws -> Pid? {
        try await Supervisor.whichChildren(supervisor).first { $0.id == id }?.pid
    }
}
