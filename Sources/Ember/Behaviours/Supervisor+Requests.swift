/// The calls a supervisor serves. Each answers with a `Result` whose error
/// is a ``SupervisorError``; ``Supervisor/request(_:_:)`` unwraps it.
extension Supervisor {
    struct StartChild: Request {
        let spec: ChildSpec

        func handle(_ server: inout Server) async throws -> any Sendable {
            if let key = server.core.children.key(ofId: spec.id), let record = server.core.children[key] {
                let refusal: SupervisorError = record.pid.map { .alreadyStarted($0) } ?? .alreadyPresent
                return Result<Pid, SupervisorError>.failure(refusal)
            }
            return try await server.startNewChild(spec)
        }
    }

    struct TerminateChild: Request {
        let id: String

        func handle(_ server: inout Server) async throws -> any Sendable {
            try await server.terminate(server.core.children.key(ofId: id), forgetting: false)
        }
    }

    struct RestartChild: Request {
        let id: String

        func handle(_ server: inout Server) async throws -> any Sendable {
            let record: ChildRecord
            switch server.core.children.stoppedChild(id: id) {
            case .success(let stopped): record = stopped
            case .failure(let refusal): return Result<Pid, SupervisorError>.failure(refusal)
            }
            let started = try await ChildStart.onRequest(record.spec)
            if case .success(let pid) = started { server.core.started(record.key, pid: pid) }
            return started
        }
    }

    struct DeleteChild: Request {
        let id: String

        func handle(_ server: inout Server) async throws -> any Sendable {
            let found = server.core.children.stoppedChild(id: id)
            if case .success(let record) = found { server.core.children.remove(record.key) }
            return found.map { _ in () }
        }
    }

    /// Served by both kinds of supervisor.
    struct WhichChildren: Request {
        func handle(_ server: inout Server) async throws -> any Sendable {
            Result<[ChildInfo], SupervisorError>.success(server.core.children.infos)
        }
    }

    /// Served by both kinds of supervisor.
    struct CountChildren: Request {
        func handle(_ server: inout Server) async throws -> any Sendable {
            Result<ChildCounts, SupervisorError>.success(server.core.children.counts)
        }
    }
}
