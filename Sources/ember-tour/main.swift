import Ember
import Logging

// swift run ember-tour
//
// The examples of Elixir's process guide (the project's seed document), run
// live in Ember and printed as an iex session: what was evaluated (in Swift),
// what it returned, and what the logger reported.

LoggingSystem.bootstrap { _ in TranscriptLogHandler() }

print("""
Ember tour: Elixir's processes, in Swift
Each `iex>` line is Swift code that Ember runs now; below it, what it returned.
""")

try await runShell(Tour.sections)
print("\nThe tour is over.")
