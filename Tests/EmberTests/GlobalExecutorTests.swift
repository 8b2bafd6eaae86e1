import Testing

@testable import Ember

/// Ember's scheduler is the program's global executor (Scheduler+GlobalExecutor.swift).
@Suite("Global executor")
struct GlobalExecutorTests {
    /// True if the calling code runs on a thread of the runtime's scheduler.
    static func onScheduler() -> Bool {
        Worker.withCurrent { $0.belongs(to: Runtime.shared.scheduler) } ?? false
    }

    @Test("a plain Swift task runs on Ember's scheduler, as processes do")
    func plainTasks() async {
        _ = Runtime.shared  // the runtime installs its scheduler when it starts
        let detached = await Swift.Task.detached { Self.onScheduler() }.value
        let child = await Swift.Task { Self.onScheduler() }.value
        async let structured = Self.onScheduler()
        #expect(detached)
        #expect(child)
        #expect(await structured)
    }

    @Test("Task.sleep, for a duration or in nanoseconds, resumes after its time on Ember's scheduler")
    func sleeping() async throws {
        let (afterDuration, afterNanoseconds, elapsed) = try await withProcess { () -> (Bool, Bool, Duration) in
            let clock = ContinuousClock()
            let start = clock.now
            try await Swift.Task.sleep(for: .milliseconds(30))  // a deadline on the continuous clock
            let afterDuration = Self.onScheduler()
            try await Swift.Task.sleep(nanoseconds: 20_000_000)  // a delay
            return (afterDuration, Self.onScheduler(), clock.now - start)
        }
        #expect(afterDuration)
        #expect(afterNanoseconds)
        #expect(elapsed >= .milliseconds(50))
    }

    @Test("a process still receives and times out when plain tasks keep the scheduler busy")
    func sharedWithTasks() async throws {
        let spinners = (0..<4).map { _ in
            Swift.Task.detached {
                while !Swift.Task.isCancelled { await Swift.Task.yield() }
            }
        }
        defer { for spinner in spinners { spinner.cancel() } }
        let (echo, timedOut) = try await withProcess { () -> (Int, Bool) in
            let me = try Pid.current
            let child = spawn { send(me, try await receive(Int.self) + 1) }
            send(child, 41)
            let echo = try await receive(Int.self)
            let timedOut = try await receive(String.self, after: 10) == nil
            return (echo, timedOut)
        }
        #expect(echo == 42)
        #expect(timedOut)
    }
}
