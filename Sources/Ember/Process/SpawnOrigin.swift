/// Where and by whom a process was started, for crash reports.
///
/// Every process keeps one, so it is packed (48 bytes): the parent is kept
/// by number, not as a `Pid` (which would also keep the parent's cell alive
/// for as long as the child lives), and the line in 32 bits.
struct SpawnOrigin: Sendable {
    /// What the process is, for its crash report.
    enum Kind: UInt8, Sendable {
        case process
        /// A task (``Tasks``): reported as Elixir reports a `Task`.
        case task
    }

    let file: StaticString
    let kind: Kind
    private let lineNumber: UInt32
    let function: String
    /// The parent's `serial << 32 | id`, or 0 for none: a process's number
    /// is never 0 (see ``ProcessTable``). A parent is always a local process.
    private let parentNumber: UInt64

    init(parent: Pid?, file: StaticString, line: UInt, function: String, kind: Kind = .process) {
        self.file = file
        self.kind = kind
        self.lineNumber = UInt32(clamping: line)
        self.function = function
        self.parentNumber = parent.map { UInt64($0.serial) << 32 | UInt64($0.id) } ?? 0
    }

    var line: UInt { UInt(lineNumber) }

    /// The process that spawned this one; nil if it was spawned from outside any process.
    var parent: Pid? {
        guard parentNumber != 0 else { return nil }
        return Pid(node: 0, id: UInt32(truncatingIfNeeded: parentNumber), serial: UInt32(parentNumber >> 32), creation: 0)
    }
}
