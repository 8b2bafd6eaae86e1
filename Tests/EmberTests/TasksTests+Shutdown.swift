import Testing

@testable import Ember

extension TasksTests {
    // MARK: shutdown

    @Test("shutdown stops a running task with shutdown and returns nil")
    func shutdownRunning() async throws {
        try await withProcess {
            try trapExits(true)
            let task = try Tasks.async(runForever)
            let watch = try monitor(task.pid)
            #expect(try await task.shutdown() == nil)
            #expect(try await down(watch)?.reason == .shutdown)
            // It was unlinked first: no exit message reaches the trapping owner.
            #expect(try await receive(ExitMessage.self, after: 0) == nil)
        }
    }

    @Test("shutdown kills a task that ignores shutdown once the timeout passes")
    func shutdownTimeoutKills() async throws {
        try await withProcess {
            let task = try await trappingTask()
            let watch = try monitor(task.pid)
            #expect(try await task.shutdown(.timeout(20)) == nil)
            #expect(try await receive(ExitReason.self, after: 0) == .shutdown)
            #expect(try await down(watch)?.reason == .killed)
        }
    }

    @Test("shutdown with brutalKill kills the task at once, trapping or not")
    func shutdownBrutalKill() async throws {
        try await withProcess {
            let task = try await trappingTask()
            let watch = try monitor(task.pid)
            #expect(try await task.shutdown(.brutalKill) == nil)
            #expect(try await down(watch)?.reason == .killed)
            #expect(try await receive(ExitReason.self, after: 0) == nil)
        }
    }

    /// Starts a task that traps exits and sends the caller the reason of
    /// every exit signal it gets; returns once it traps them.
    private func trappingTask() async throws -> ProcessTask<Int> {
        let tester = try Pid.current
        let task = try Tasks.async { () async throws -> Int in
            try trapExits(true)
            send(tester, "trapping" as Atom)
            while true {
                let signal = try await receive(ExitMessage.self)
                send(tester, signal.reason)
            }
        }
        _ = try await receive { (message: Atom) in message == "trapping" ? () : nil }
        return task
    }

    @Test("shutdown returns the reply of a task that finished, and the exit of one that crashed")
    func shutdownFinished() async throws {
        try await withProcess {
            try trapExits(true)
            let done = try Tasks.async { "done" }
            #expect(await eventually { !done.pid.isAlive })
            #expect(try await done.shutdown() == .ok("done"))
            let crashed = try Tasks.async { () async throws -> Int in throw RuntimeError("bad") }
            #expect(try await exitMessage(from: crashed.pid) != nil)
            #expect(try await crashed.shutdown() == .exit(.error(RuntimeError("bad"))))
        }
    }

    // MARK: ignore

    @Test("ignore lets the task run on, unlinked, and its reply never arrives")
    func ignoreRunning() async throws {
        try await withProcess {
            let me = try Pid.current
            let task = try Tasks.async { try await waitForGo(5) }
            #expect(try await task.ignore() == nil)
            #expect(task.pid.isAlive)
            #expect(task.pid.info()?.links.contains(me) == false)
            let watch = try monitor(task.pid)
            send(task.pid, "go" as Atom)
            #expect(try await down(watch)?.reason == .normal)
            #expect(try flush().isEmpty)
        }
    }

    @Test("ignore returns the result of a task that already finished")
    func ignoreFinished() async throws {
        try await withProcess {
            let task = try Tasks.async { 3 }
            #expect(await eventually { !task.pid.isAlive })
            #expect(try await task.ignore() == .ok(3))
            #expect(try flush().isEmpty)
        }
    }
}
