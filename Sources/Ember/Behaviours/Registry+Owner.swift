/// The processes of a registry.
///
/// - The *root* (Elixir's `Registry.Supervisor`) holds the registry's name,
///   starts one partition process per partition, publishes the tables and
///   tears everything down when it is stopped, when the process that started
///   it exits, or when a partition dies.
/// - A *partition* (Elixir's `Registry.Partition`) traps exits. Registering
///   processes link to it; when one exits, its `ExitMessage` arrives here and
///   the partition removes that process's entries.
enum RegistryOwner {
    struct Config: Sendable {
        let name: Atom
        let kind: Registry.Keys
        let partitions: Int
        let meta: [Atom: any Sendable]
    }

    /// Requests a root answers with ``Calls``.
    enum Request: Sendable {
        case stop(ExitReason)
    }

    /// The root's answer to `startLink` (Erlang's `proc_lib:init_ack`).
    struct Started: Sendable {
        let ref: Reference
        let failure: RegistryError?
    }

    /// A partition has set its trap-exits flag and may be linked to.
    struct PartitionReady: Sendable {
        let index: Int
    }

    /// How long a stopping root waits for a partition before killing it.
    static let shutdownTimeout: Timeout = 5_000

    // MARK: Starting

    /// Spawns the root linked to `caller` and waits until the registry is
    /// running or has failed to start.
    static func start(_ config: Config, from caller: ProcessCell) async throws -> Pid {
        let parent = caller.pid
        let ref = Reference()
        let root = try spawnLink { try await runRoot(config, parent: parent, ref: ref) }
        let watch = try monitor(root)
        enum Outcome { case started(RegistryError?), down(ExitReason) }
        let outcome = try await receive { (message: any Sendable) -> Outcome? in
            if let started = message as? Started, started.ref == ref { return .started(started.failure) }
            if let down = message as? DownMessage, down.ref == watch { return .down(down.reason) }
            return nil
        }
        switch outcome {
        case .started(nil):
            try demonitor(watch, flush: true)
            return root
        case .started(let failure?):
            // The root exits `normal` right after its answer; a caller that
            // traps exits must not find that exit in its mailbox.
            _ = try await receive { (down: DownMessage) in down.ref == watch ? down : nil }
            caller.removeMessages { ($0 as? ExitMessage)?.from == root }
            throw failure
        case .down(let reason):
            caller.removeMessages { ($0 as? ExitMessage)?.from == root }
            throw RegistryError.startFailed(reason)
        }
    }

    // MARK: The root

    static func runRoot(_ config: Config, parent: Pid, ref: Reference) async throws {
        let me = try Pid.current
        try trapExits(true)
        if let failure = claim(config.name, for: me) {
            send(parent, Started(ref: ref, failure: failure))
            return
        }
        let storage = RegistryStorage(kind: config.kind, partitionCount: config.partitions)
        var owners: [Pid] = []
        for index in 0..<config.partitions {
            owners.append(try spawnLink { try await runPartition(index, storage: storage, root: me) })
        }
        // Published only once every partition traps exits: a process that
        // links to one and dies must not take it down.
        var ready = 0
        while ready < owners.count {
            _ = try await receive(PartitionReady.self)
            ready += 1
        }
        let table = RegistryTable(name: config.name, root: me, owners: owners, storage: storage, meta: config.meta)
        RegistryDirectory.install(table)
        // Also when the root is killed: its code unwinds through here.
        defer { RegistryDirectory.remove(table) }
        send(parent, Started(ref: ref, failure: nil))
        while true {
            let message = try await receive { (message: any Sendable) in message }
            if let exit = message as? ExitMessage {
                // The starter's exit stops the registry whatever its reason,
                // as a parent's exit stops an OTP process.
                guard exit.from == parent || owners.contains(exit.from) else { continue }
                try await shutDown(table, me: me)
                throw exit.reason
            }
            if let call = message as? CallMessage, let request = call.request as? Request {
                switch request {
                case .stop(let reason):
                    try await shutDown(table, me: me)
                    Calls.reply(call.from, Atom.ok)
                    throw reason
                }
            }
        }
    }

    /// Registers the root under the registry's name, or says why it cannot.
    private static func claim(_ name: Atom, for me: Pid) -> RegistryError? {
        while true {
            do {
                try register(me, as: name)
                return nil
            } catch {
                guard error == .nameTaken(name) else { return .reservedName(name) }
                // The holder may have exited meanwhile: then try again.
                if let holder = whereis(name) { return .alreadyStarted(holder) }
            }
        }
    }

    /// Withdraws the registry (lookups fail from now on, the name is free),
    /// then stops the partitions, killing those that do not stop in time.
    private static func shutDown(_ table: RegistryTable, me: Pid) async throws {
        RegistryDirectory.remove(table)
        if whereis(table.name) == me { try? unregister(table.name) }
        var running = Set(table.owners.filter(\.isAlive))
        for owner in running { owner.exit(.shutdown) }
        var killed = false
        while !running.isEmpty {
            let timeout: Timeout = killed ? .infinity : shutdownTimeout
            let exited = try await receive(after: timeout) { (exit: ExitMessage) in
                running.contains(exit.from) ? exit.from : nil
            }
            if let exited {
                running.remove(exited)
            } else {
                for owner in running { owner.exit(.kill) }
                killed = true
            }
        }
    }

    // MARK: A partition

    static func runPartition(_ index: Int, storage: RegistryStorage, root: Pid) async throws {
        try trapExits(true)
        send(root, PartitionReady(index: index))
        while true {
            // Only exit signals are addressed to a partition; anything else is dropped.
            let message = try await receive { (message: any Sendable) in message }
            guard let exit = message as? ExitMessage else { continue }
            if exit.from == root { throw exit.reason }
            storage.removeAll(of: exit.from)
        }
    }
}
