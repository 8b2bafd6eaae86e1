/// How long a `receive` waits: Elixir's `after` clause.
///
/// An integer literal is milliseconds, as in Elixir (`after: 1_000`);
/// ``infinity`` never times out, `0` only looks at what is already there.
public struct Timeout: Sendable, Hashable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// nil means infinity.
    @usableFromInline let nanoseconds: UInt64?

    private init(nanoseconds: UInt64?) { self.nanoseconds = nanoseconds }

    /// Never time out.
    public static let infinity = Timeout(nanoseconds: nil)

    /// Milliseconds; negative values count as 0.
    public init(integerLiteral milliseconds: Int) { self = .milliseconds(milliseconds) }

    public static func milliseconds(_ milliseconds: Int) -> Timeout {
        Timeout(nanoseconds: UInt64(max(0, milliseconds)).multipliedReportingOverflow(by: 1_000_000).partialValue)
    }

    public static func seconds(_ seconds: Int) -> Timeout { .milliseconds(seconds.multipliedReportingOverflow(by: 1000).partialValue) }

    /// A Swift `Duration`; negative durations count as 0.
    public init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 { self.nanoseconds = 0; return }
        let whole = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        self.nanoseconds = whole.overflow ? UInt64.max : whole.partialValue &+ UInt64(max(0, attoseconds) / 1_000_000_000)
    }

    public var description: String {
        guard let nanoseconds else { return ":infinity" }
        return "\(nanoseconds / 1_000_000)"
    }
}
