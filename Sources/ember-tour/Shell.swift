import Ember
import Synchronization

/// One line typed at the prompt: the Swift source shown, and the code run.
struct Step: Sendable {
    let source: String
    let run: @Sendable (Bindings) async throws -> (any Sendable)?

    init(_ source: String, _ run: @escaping @Sendable (Bindings) async throws -> (any Sendable)?) {
        self.source = source
        self.run = run
    }
}

/// A part of the tour: a title, a line of explanation, and its steps.
struct Section: Sendable {
    let title: String
    let text: String
    let steps: [Step]
}

/// Variables bound at the prompt, kept across steps (and across evaluator
/// restarts, as iex keeps them).
final class Bindings: Sendable {
    private let values = Mutex<[String: any Sendable]>([:])

    subscript<T>(_ name: String, as type: T.Type = T.self) -> T {
        get { values.withLock { $0[name] } as! T }
    }

    func set(_ name: String, _ value: any Sendable) {
        values.withLock { $0[name] = value }
    }
}

/// What the evaluator process sends back after a step.
enum Evaluated: Sendable {
    case value((any Sendable)?)
    case raised(String)
}

/// Prints a step's source the way iex echoes input.
func echo(_ source: String) {
    let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
    for (index, line) in lines.enumerated() {
        Transcript.print((index == 0 ? "iex> " : "...> ") + line)
    }
}

/// Runs the sections like an iex session: a driver process feeds each step to
/// an evaluator process, linked to it and trapping exits; when the evaluator
/// dies, the driver says so and starts a new one, as iex does.
func runShell(_ sections: [Section]) async throws {
    let bindings = Bindings()
    try await withProcess {
        try trapExits(true)
        let driver = try Pid.current
        var evaluator = try startEvaluator(driver: driver, bindings: bindings)
        for section in sections {
            Transcript.print("\n## \(section.title)\n\(section.text)\n")
            for step in section.steps {
                echo(step.source)
                send(evaluator, step)
                let outcome = try await receive { (m: any Sendable) -> Evaluated? in
                    if let result = m as? Evaluated { return result }
                    if let exit = m as? ExitMessage, exit.from == evaluator {
                        return .raised("** (EXIT from \(exit.from)) evaluator process exited with reason: \(exit.reason)")
                    }
                    return nil
                }
                // Printing is where a real shell does its I/O: others run meanwhile.
                await yieldNow()
                switch outcome {
                case .value(let value?): Transcript.print(inspect(value))
                case .value(nil): break
                case .raised(let text):
                    Transcript.print("\n" + text + "\n")
                    evaluator = try startEvaluator(driver: driver, bindings: bindings)
                }
            }
        }
        send(evaluator, Atom("quit"))
    }
}

private func startEvaluator(driver: Pid, bindings: Bindings) throws -> Pid {
    try spawnLink {
        while true {
            let step = try await receive { (m: any Sendable) -> Step?? in
                if let step = m as? Step { return .some(step) }
                if let atom = m as? Atom, atom == "quit" { return .some(nil) }
                return nil
            }
            guard let step else { return }
            send(driver, Evaluated.value(try await step.run(bindings)))
        }
    }
}
