import Testing

@testable import Ember

extension TasksTests {
    // MARK: async and value

    @Test("async runs the function in a linked, monitored process and value returns its result")
    func asyncValue() async throws {
        try await withProcess {
            let me = try Pid.current
            let task = try Tasks.async { try await waitForGo(42) }
            #expect(task.owner == me)
            #expect(task.pid.info()?.links.contains(me) == true)
            #expect(task.pid.info()?.monitoredBy.contains(me) == true)
            send(task.pid, "go" as Atom)
            #expect(try await task.value() == 42)
            // The monitor is gone and its DOWN flushed: nothing is left behind.
            #expect(await eventually { !task.pid.isAlive })
            #expect(try flush().isEmpty)
        }
    }

    @Test("value throws exited with the crash reason when a trapping owner's task crashes")
    func valueOfCrashedTask() async throws {
        try await withProcess {
            try trapExits(true)
            let task = try Tasks.async { () async throws -> Int in throw RuntimeError("boom") }
            await #expect(throws: TaskError.exited(.error(RuntimeError("boom")))) { try await task.value() }
            #expect(try await exitMessage(from: task.pid)?.reason == .error(RuntimeError("boom")))
        }
    }

    @Test("a crashing async task takes an owner that does not trap exits down")
    func crashTakesOwnerDown() async throws {
        try await withProcess {
            let owner = spawn {
                let task = try Tasks.async { () async throws -> Int in throw RuntimeError("boom") }
                _ = try await task.value()
            }
            let ref = try monitor(owner)
            #expect(try await down(ref)?.reason == .error(RuntimeError("boom")))
        }
    }

    @Test("value times out while the task runs on, and the task can still be awaited")
    func valueTimeout() async throws {
        try await withProcess {
            let task = try Tasks.async { try await waitForGo("late") }
            await #expect(throws: TaskError.timeout) { try await task.value(timeout: 10) }
            #expect(task.pid.isAlive)
            send(task.pid, "go" as Atom)
            #expect(try await task.value() == "late")
        }
    }

    @Test("an uncaught value timeout ends the owner, and the linked task with it")
    func uncaughtTimeoutEndsOwnerAndTask() async throws {
        try await withProcess {
            let tester = try Pid.current
            let owner = spawn {
                let task = try Tasks.async(runForever)
                send(tester, task.pid)
                _ = try await waitForGo(())
                _ = try await task.value(timeout: 10)
            }
            let taskPid = try await receive(Pid.self)
            let ownerRef = try monitor(owner)
            let taskRef = try monitor(taskPid)
            send(owner, "go" as Atom)
            #expect(try await down(ownerRef)?.reason == .error(TaskError.timeout))
            #expect(try await down(taskRef)?.reason == .error(TaskError.timeout))
        }
    }

    @Test("only the owner may await a task; outside a process value throws notInProcess")
    func valueByNonOwner() async throws {
        let task = try await withProcess { try Tasks.async { 1 } }
        await #expect(throws: ProcessError.notInProcess("ProcessTask.value")) { try await task.value() }
        try await withProcess {
            await #expect(throws: TaskError.notOwner) { try await task.value() }
            await #expect(throws: TaskError.notOwner) { try await task.yield(timeout: 0) }
            await #expect(throws: TaskError.notOwner) { try await task.shutdown() }
            await #expect(throws: TaskError.notOwner) { try await task.ignore() }
            await #expect(throws: TaskError.notOwner) { try await Tasks.awaitMany([task]) }
            await #expect(throws: TaskError.notOwner) { try await Tasks.yieldMany([task]) }
        }
        #expect(throws: ProcessError.notInProcess("Tasks.async")) { try Tasks.async { 1 } }
    }

    @Test("completed makes a task whose value is there at once")
    func completed() async throws {
        try await withProcess {
            let task = try Tasks.completed("done")
            #expect(task.pid == .external)
            #expect(try await task.value(timeout: 0) == "done")
            let other = try Tasks.completed(7)
            #expect(try await other.shutdown() == .ok(7))
        }
        #expect(throws: ProcessError.notInProcess("Tasks.completed")) { try Tasks.completed(1) }
    }

    // MARK: awaitMany

    @Test("awaitMany returns the results in the order of the tasks")
    func awaitManyInOrder() async throws {
        try await withProcess {
            let tasks = try (1...5).map { n in try Tasks.async { try await waitForGo(n * n) } }
            for task in tasks.reversed() { send(task.pid, "go" as Atom) }
            #expect(try await Tasks.awaitMany(tasks) == [1, 4, 9, 16, 25])
        }
    }

    @Test("awaitMany throws timeout when one task has not replied in time")
    func awaitManyTimeout() async throws {
        try await withProcess {
            let quick = try Tasks.async { 1 }
            let stuck = try Tasks.async(runForever)
            await #expect(throws: TaskError.timeout) { try await Tasks.awaitMany([quick, stuck], timeout: 20) }
            #expect(stuck.pid.isAlive)
            #expect(try await stuck.shutdown(.brutalKill) == nil)
        }
    }

    @Test("awaitMany throws exited when a task of a trapping owner crashes")
    func awaitManyCrash() async throws {
        try await withProcess {
            try trapExits(true)
            let stuck = try Tasks.async(runForever)
            let crashing = try Tasks.async { () async throws -> Int in throw RuntimeError("bad") }
            await #expect(throws: TaskError.exited(.error(RuntimeError("bad")))) {
                try await Tasks.awaitMany([stuck, crashing], timeout: .infinity)
            }
            try await stuck.shutdown()
        }
    }

    // MARK: yield

    @Test("yield returns nil while the task runs, then its result")
    func yieldRunningThenDone() async throws {
        try await withProcess {
            let task = try Tasks.async { try await waitForGo("ok") }
            #expect(try await task.yield(timeout: 0) == nil)
            send(task.pid, "go" as Atom)
            #expect(try await task.yield() == .ok("ok"))
        }
    }

    @Test("yield reports the exit of a crashed task to a trapping owner")
    func yieldCrashed() async throws {
        try await withProcess {
            try trapExits(true)
            let task = try Tasks.async { () async throws -> Int in throw RuntimeError("bad") }
            #expect(try await task.yield() == .exit(.error(RuntimeError("bad"))))
        }
    }

    @Test("yieldMany reports finished, crashed and still-running tasks in order")
    func yieldManyMixed() async throws {
        try await withProcess {
            try trapExits(true)
            let me = try Pid.current
            let finished = try Tasks.async { 1 }
            let running = try Tasks.async(runForever)
            let crashed = try Tasks.async { () async throws -> Int in throw RuntimeError("bad") }
            // finished: reply and DOWN; crashed: exit message and DOWN.
            #expect(await eventually { (me.info()?.messageQueueLength ?? 0) >= 4 })
            let outcomes = try await Tasks.yieldMany([finished, running, crashed], timeout: 0)
            #expect(outcomes == [.ok(1), nil, .exit(.error(RuntimeError("bad")))])
            #expect(try await running.shutdown() == nil)
        }
    }
}
