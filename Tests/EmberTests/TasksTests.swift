import Testing

@testable import Ember

/// Waits until told "go", then returns `value`: a task that stays running
/// until the test lets it finish.
@Sendable func waitForGo<T: Sendable>(_ value: T) async throws -> T {
    _ = try await receive { (message: Atom) in message == "go" ? () : nil }
    return value
}

/// A message nobody sends.
struct Forever: Sendable {}

/// A task that never finishes on its own.
@Sendable func runForever() async throws -> Int {
    _ = try await receive(Forever.self)
    return 0
}

@Suite("Tasks")
struct TasksTests {
    init() { _ = CapturedLogs.shared }

    // MARK: start and startLink

    @Test("start runs a task whose crash logs Elixir's task report naming the process that started it")
    func startLogsTaskReport() async throws {
        try await withProcess {
            let parent = try Pid.current
            let pid = Tasks.start {
                _ = try await waitForGo(())
                throw RuntimeError("oops")
            }
            let ref = try monitor(pid)
            send(pid, "go" as Atom)
            #expect(try await down(ref)?.reason == .error(RuntimeError("oops")))
            let report = CapturedLogs.shared.messages(for: pid).first ?? ""
            #expect(report.contains("Task \(pid) started from \(parent) terminating"))
            #expect(report.contains("** (RuntimeError) oops"))
            #expect(parent.isAlive)
        }
    }

    @Test("a task started outside any process says so in its report")
    func startOutsideProcess() async throws {
        let pid = Tasks.start { throw RuntimeError("lonely") }
        #expect(await eventually { CapturedLogs.shared.messages(for: pid).contains {
            $0.contains("Task \(pid) started from outside any process terminating") && $0.contains("** (RuntimeError) lonely")
        } })
    }

    @Test("startLink links the task to the caller: its crash reaches a trapping caller as an exit message")
    func startLinkCrashReachesCaller() async throws {
        try await withProcess {
            try trapExits(true)
            let pid = try Tasks.startLink { throw RuntimeError("oops") }
            #expect(try await exitMessage(from: pid)?.reason == .error(RuntimeError("oops")))
        }
    }

    @Test("startLink takes a caller that does not trap exits down with the task")
    func startLinkTakesCallerDown() async throws {
        try await withProcess {
            let caller = spawn {
                try Tasks.startLink { throw RuntimeError("oops") }
                _ = try await receive(Forever.self)
            }
            let ref = try monitor(caller)
            #expect(try await down(ref)?.reason == .error(RuntimeError("oops")))
        }
    }

    @Test("startLink outside a process throws notInProcess")
    func startLinkOutsideProcess() {
        #expect(throws: ProcessError.notInProcess("Tasks.startLink")) { try Tasks.startLink {} }
    }

}
