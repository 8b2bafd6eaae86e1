/// A process identifier: a value that names one process, on this node or on
/// another one, for as long as the node runs.
///
/// Pids are small `Hashable`, `Sendable` values that print the way Elixir
/// prints them (`#PID<0.42.0>`). A pid stays valid after its process has
/// died: sending to it does nothing and ``isAlive`` turns false.
///
/// A pid carries exactly what Erlang's `NEW_PID` term carries — node, id,
/// serial and creation — so a pid can travel to another node and back.
public struct Pid: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// 0 for this node; other values index the node table of the distribution layer.
    let node: UInt32
    let id: UInt32
    let serial: UInt32
    let creation: UInt32
    /// The process behind a local pid; nil for remote pids. Kept so that a
    /// send is a direct call rather than a table lookup.
    @usableFromInline let cell: ProcessCell?

    init(cell: ProcessCell) {
        self.node = 0
        self.id = cell.id
        self.serial = cell.serial
        self.creation = 0
        self.cell = cell
    }

    init(node: UInt32, id: UInt32, serial: UInt32, creation: UInt32) {
        self.node = node
        self.id = id
        self.serial = serial
        self.creation = creation
        self.cell = nil
    }

    /// True while the process behind this pid has not exited.
    public var isAlive: Bool { cell?.isAlive ?? false }

    /// The pid as Elixir prints it, `#PID<0.42.0>`.
    public var description: String { "#PID<\(node).\(id).\(serial)>" }

    public static func == (lhs: Pid, rhs: Pid) -> Bool {
        lhs.id == rhs.id && lhs.serial == rhs.serial && lhs.node == rhs.node && lhs.creation == rhs.creation
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(serial)
        hasher.combine(node)
    }

    public static func < (lhs: Pid, rhs: Pid) -> Bool {
        (lhs.node, lhs.serial, lhs.id, lhs.creation) < (rhs.node, rhs.serial, rhs.id, rhs.creation)
    }
}

/// A unique value, like Elixir's `make_ref()`: monitors are identified by one.
public struct Reference: Hashable, Sendable, CustomStringConvertible {
    let node: UInt32
    let value: UInt64

    init(node: UInt32 = 0, value: UInt64) {
        self.node = node
        self.value = value
    }

    /// Makes a reference that no other call on this node has returned.
    public init() { self = Runtime.shared.makeReference() }

    public var description: String {
        "#Reference<\(node).\(value >> 32).\(value & 0xFFFF_FFFF)>"
    }
}
