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
            guard let key = server.core.children.key(ofId: id) else {
                return Result<Void, SupervisorError>.failure(.notFound)
            }
            try await server.terminate(key, forgetting: false)
            return Result<Void, SupervisorError>.success(())
        }
    }

    struct RestartChild: Request {
        let id: String

        func handle(_ server: inout Server) async throws -> any Sendable {
            guard let key = server.core.children.key(ofId: id), let record = server.core.children[key] else {
                return Result<Pid, SupervisorError>.failure(.notFound)
            }
            switch record.status {
            case .running: return Result<Pid, SupervisorError>.failure(.running)
            case .restarting: return Result<Pid, SupervisorError>.failure(.restarting)
            case .stopped: break
            }
            switch try await ChildStart.start(record.spec) {
            case .success(let pid?):
                server.core.started(key, pid: pid)
                return Result<Pid, SupervisorError>.success(pid)
            case .success(nil):
                return Result<Pid, SupervisorError>.failure(.ignored)
            case .failure(let reason):
                return Result<Pid, SupervisorError>.failure(.startFailed(id: id, reason: reason))
            }
        }
    }

    struct DeleteChild: Request {
        let id: String

        func handle(_ server: inout Server) async throws -> any Sendable {
            guard let key = server.core.children.key(ofId: id), let record = server.core.children[key] else {
                return Result<Void, SupervisorError>.failure(.notFound)
            }
            switch record.status {
            case .running: return Result<Void, SupervisorError>.failure(.running)
            case .restarting: return Result<Void, SupervisorError>.failure(.restarting)
            case .stopped:
                server.core.children.remove(key)
                return Result<Void, SupervisorError>.success(())
            }
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
