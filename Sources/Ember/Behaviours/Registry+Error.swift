/// Why a ``Registry`` operation failed: a typed error, where Elixir returns
/// `{:error, ...}` or raises `ArgumentError`.
///
/// ```swift
/// do {
///     try registry.register("worker", 1)
/// } catch {
///     print(error)                  // the key is already registered by #PID<0.81.0>
///     error.holder                  // that pid
/// }
/// ```
public struct RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Code: Equatable, Sendable {
        case alreadyRegistered(Pid)
        case unknownRegistry(Atom)
        case notInProcess(String)
        case alreadyStarted(Pid)
        case reservedName(Atom)
        case invalidPartitions(Int)
        case notUnique(Atom)
        case notRegistered(RegistryKey)
        case notCaller(Pid)
        case startFailed(ExitReason)
    }

    let code: Code

    /// The unique key is held by this live process (Elixir's
    /// `{:error, {:already_registered, pid}}`).
    public static func alreadyRegistered(_ holder: Pid) -> RegistryError { RegistryError(code: .alreadyRegistered(holder)) }
    /// No registry runs under this name.
    public static func unknownRegistry(_ name: Atom) -> RegistryError { RegistryError(code: .unknownRegistry(name)) }
    /// The function registers or unregisters the calling process, and the
    /// caller is not a process.
    public static func notInProcess(_ function: String) -> RegistryError { RegistryError(code: .notInProcess(function)) }
    /// The name is taken by this process, a registry or any other
    /// (Elixir's `{:error, {:already_started, pid}}`).
    public static func alreadyStarted(_ holder: Pid) -> RegistryError { RegistryError(code: .alreadyStarted(holder)) }
    /// The name cannot be used (`:undefined`).
    public static func reservedName(_ name: Atom) -> RegistryError { RegistryError(code: .reservedName(name)) }
    /// A registry needs at least one partition.
    public static func invalidPartitions(_ count: Int) -> RegistryError { RegistryError(code: .invalidPartitions(count)) }
    /// The operation needs unique keys and the registry has duplicate ones.
    public static func notUnique(_ registry: Atom) -> RegistryError { RegistryError(code: .notUnique(registry)) }
    /// Nothing is registered under the key (sending to a `via` name).
    public static func notRegistered<Key: Hashable & Sendable>(_ key: Key) -> RegistryError {
        RegistryError(code: .notRegistered(RegistryKey(key)))
    }
    /// Only the process itself can take a name in a registry.
    public static func notCaller(_ pid: Pid) -> RegistryError { RegistryError(code: .notCaller(pid)) }
    /// The registry's process exited before it was ready.
    public static func startFailed(_ reason: ExitReason) -> RegistryError { RegistryError(code: .startFailed(reason)) }

    /// The process holding the key (``alreadyRegistered(_:)``) or the name
    /// (``alreadyStarted(_:)``).
    public var holder: Pid? {
        switch code {
        case .alreadyRegistered(let pid), .alreadyStarted(let pid): pid
        default: nil
        }
    }

    public var description: String {
        switch code {
        case .alreadyRegistered(let pid): "the key is already registered by \(pid)"
        case .unknownRegistry(let name): "unknown registry: \(name)"
        case .notInProcess(let function): "\(function) must be called from inside an Ember process"
        case .alreadyStarted(let pid): "the name is already taken by \(pid)"
        case .reservedName(let name): "\(name) cannot be used as a registry name"
        case .invalidPartitions(let count): "a registry needs a positive number of partitions, got \(count)"
        case .notUnique(let name): "the registry \(name) has duplicate keys; the operation needs unique keys"
        case .notRegistered(let key): "nothing is registered under \(key)"
        case .notCaller(let pid): "\(pid) is not the calling process: only a process can register its own name"
        case .startFailed(let reason): "the registry exited while starting (\(reason))"
        }
    }
}
