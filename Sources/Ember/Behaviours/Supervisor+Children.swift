extension Supervisor {
    /// Identifies a child inside its supervisor. Keys grow in start order and
    /// a child keeps its key across restarts, so sorting keys gives the order
    /// strategies and shutdowns need.
    struct ChildKey: Sendable, Hashable, Comparable, CustomStringConvertible {
        let value: Int
        static func < (lhs: ChildKey, rhs: ChildKey) -> Bool { lhs.value < rhs.value }
        var description: String { "child#\(value)" }
    }

    /// Where a child stands.
    enum ChildStatus: Sendable, Equatable {
        case running(Pid)
        /// A restart failed; another attempt is queued (Elixir's `:restarting`).
        case restarting
        /// Not running, spec kept: terminated on request, an orderly exit of a
        /// transient child, or waiting for its turn in a restart.
        case stopped
    }

    /// What reports and shutdowns need to know of a child: its spec without
    /// the start function.
    struct ChildSummary: Sendable, Hashable {
        let id: String
        let restart: Restart
        let shutdown: Shutdown
        let type: ChildType

        init(_ spec: ChildSpec) {
            self.init(id: spec.id, restart: spec.restart, shutdown: spec.shutdown, type: spec.type)
        }

        init(id: String, restart: Restart = .permanent, shutdown: Shutdown = .timeout(5_000), type: ChildType = .worker) {
            self.id = id
            self.restart = restart
            self.shutdown = shutdown
            self.type = type
        }
    }

    /// A child as its supervisor remembers it.
    struct ChildRecord: Sendable {
        let key: ChildKey
        let spec: ChildSpec
        var status: ChildStatus

        var summary: ChildSummary { ChildSummary(spec) }

        var pid: Pid? {
            if case .running(let pid) = status { return pid }
            return nil
        }

        var info: ChildInfo {
            ChildInfo(id: spec.id, pid: pid, type: spec.type, isRestarting: status == .restarting)
        }
    }

    /// The children of a supervisor, found by key, pid or id, listed in start
    /// order. A pure value: the supervisor's process is its only owner.
    struct ChildTable: Sendable {
        private var records: [ChildKey: ChildRecord] = [:]
        private var keysByPid: [Pid: ChildKey] = [:]
        private var nextKey = 0

        var count: Int { records.count }

        /// Keys, oldest child first.
        var keysInStartOrder: [ChildKey] { records.keys.sorted() }

        /// Records, oldest child first.
        var inStartOrder: [ChildRecord] { keysInStartOrder.compactMap { records[$0] } }

        subscript(key: ChildKey) -> ChildRecord? { records[key] }

        /// The child running as `pid`.
        func key(of pid: Pid) -> ChildKey? { keysByPid[pid] }

        /// The oldest child with this id (a static supervisor's ids are unique).
        func key(ofId id: String) -> ChildKey? {
            records.values.filter { $0.spec.id == id }.map(\.key).min()
        }

        /// The child `id` if it is stopped: only then may it be restarted or
        /// deleted on request. Otherwise why not: there is no such child, or
        /// it is running or restarting.
        func stoppedChild(id: String) -> Result<ChildRecord, SupervisorError> {
            guard let key = key(ofId: id), let record = records[key] else { return .failure(.notFound) }
            switch record.status {
            case .running: return .failure(.running)
            case .restarting: return .failure(.restarting)
            case .stopped: return .success(record)
            }
        }

        /// Adds a child after all the others.
        @discardableResult
        mutating func add(_ spec: ChildSpec, status: ChildStatus) -> ChildKey {
            let key = ChildKey(value: nextKey)
            nextKey += 1
            records[key] = ChildRecord(key: key, spec: spec, status: .stopped)
            setStatus(status, of: key)
            return key
        }

        mutating func setStatus(_ status: ChildStatus, of key: ChildKey) {
            guard let old = records[key] else { return }
            if let pid = old.pid { keysByPid[pid] = nil }
            records[key]?.status = status
            if case .running(let pid) = status { keysByPid[pid] = key }
        }

        mutating func remove(_ key: ChildKey) {
            guard let record = records.removeValue(forKey: key) else { return }
            if let pid = record.pid { keysByPid[pid] = nil }
        }

        var infos: [ChildInfo] { inStartOrder.map(\.info) }

        var counts: ChildCounts {
            var active = 0
            var supervisors = 0
            for record in records.values {
                if record.pid != nil { active += 1 }
                if record.spec.type == .supervisor { supervisors += 1 }
            }
            return ChildCounts(specs: records.count, active: active, supervisors: supervisors, workers: records.count - supervisors)
        }
    }
}
