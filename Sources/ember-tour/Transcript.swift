import Logging
import Synchronization

/// The tour's output: evaluated lines and logged reports, printed in the
/// order they happen.
enum Transcript {
    private static let lock = Mutex(())

    static func print(_ text: String) {
        lock.withLock { _ in Swift.print(text) }
    }
}

/// Prints log records the way Elixir's console logger does: `[error] ...`.
struct TranscriptLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        Transcript.print("\n[\(event.level)] \(event.message)\n")
    }
}
