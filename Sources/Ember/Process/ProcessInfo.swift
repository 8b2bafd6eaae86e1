extension Pid {
    /// What a process is doing, as ``Pid/info()`` reports it.
    public enum Status: String, Sendable {
        /// Blocked in `receive`, waiting for a message.
        case waiting
        /// Running or ready to run.
        case running
    }

    /// A snapshot of a live process (Elixir's `Process.info/1`).
    public struct Info: Sendable {
        public let status: Status
        /// Messages in the mailbox.
        public let messageQueueLength: Int
        /// Linked processes.
        public let links: [Pid]
        /// Processes this one monitors.
        public let monitors: [Pid]
        /// Processes that monitor this one.
        public let monitoredBy: [Pid]
        public let registeredName: Atom?
        public let trapsExits: Bool
    }

    /// A snapshot of the process, or nil if it is not alive.
    public func info() -> Info? {
        guard let cell else { return nil }
        let queued = cell.messageQueueLength
        return cell.withState { state in
            guard state.isAlive else { return nil }
            return Info(
                status: state.isWaiting ? .waiting : .running,
                messageQueueLength: queued,
                links: state.links.sorted(),
                monitors: state.allMonitoring.values.sorted(),
                monitoredBy: state.monitoredBy.values.sorted(),
                registeredName: state.name,
                trapsExits: state.trapsExits)
        }
    }
}
