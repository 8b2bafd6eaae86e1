import Synchronization
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
            let watch = try monitor(task.pid)
            #expect(try await task.shutdown(.timeout(20)) == nil)
            #expect(try await receive(ExitReason.self, after: 0) == .shutdown)
            #expect(try await down(watch)?.reason == .killed)
        }
    }

    @Test("shutdown with brutalKill kills the task at once, trapping or not")
    func shutdownBrutalKill() async throws {
        try await withProcess {
            let tester = try Pid.current
            let task = try Tasks.async { () async throws -> Int in
                try trapExits(true)
                send(tester, "trapping" as Atom)
                let signal = try await receive(ExitMessage.self)
                send(tester, signal.reason)
                return 0
            }
            _ = try await receive { (message: Atom) in message == "trapping" ? () : nil }
            let watch = try monitor(task.pid)
            #expect(try await task.shutdown(.brutalKill) == nil)
            #expect(try await down(watch)?.reason == .killed)
            #expect(try await receive(ExitReason.self, after: 0) == nil)
        }
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

/// The peak number of tasks running at once.
final class ConcurrencyGauge: Sendable {
    private let counts = Mutex<(current: Int, peak: Int)>((0, 0))
    func enter() { counts.withLock { $0.current += 1; $0.peak = max($0.peak, $0.current) } }
    func leave() { counts.withLock { $0.current -= 1 } }
    var peak: Int { counts.withLock { $0.peak } }
}

@Suite("Tasks.asyncStream")
struct TasksStreamTests {
    init() { _ = CapturedLogs.shared }

    /// Runs a stream over 1...5 where 1 finishes last; returns the results.
    func streamWhereFirstFinishesLast(ordered: Bool) async throws -> [TaskOutcome<Int>] {
        try await withProcess {
            let tester = try Pid.current
            let streamer = spawn {
                let results = try await Tasks.asyncStream(1...5, maxConcurrency: 5, ordered: ordered) { n in
                    if n == 1 {
                        send(tester, try Pid.current)
                        return try await waitForGo(10)
                    }
                    send(tester, n)
                    return n * 10
                }
                send(tester, results)
            }
            let first = try await receive(Pid.self)
            for _ in 2...5 { _ = try await receive(Int.self) }
            // The others have replied; only now may the first finish.
            send(first, "go" as Atom)
            let results = try await receive([TaskOutcome<Int>].self)
            #expect(await eventually { !streamer.isAlive })
            return results
        }
    }

    @Test("asyncStream returns results in the order of the elements when ordered")
    func ordered() async throws {
        #expect(try await streamWhereFirstFinishesLast(ordered: true) == [.ok(10), .ok(20), .ok(30), .ok(40), .ok(50)])
    }

    @Test("asyncStream returns results in the order the tasks finished when not ordered")
    func unordered() async throws {
        let results = try await streamWhereFirstFinishesLast(ordered: false)
        #expect(results.last == .ok(10))
        #expect(Set(results.dropLast().compactMap(\.value)) == [20, 30, 40, 50])
    }

    @Test("asyncStream runs at most maxConcurrency tasks at once")
    func maxConcurrency() async throws {
        try await withProcess {
            let tester = try Pid.current
            let gauge = ConcurrencyGauge()
            spawn {
                let results = try await Tasks.asyncStream(1...6, maxConcurrency: 2) { n in
                    gauge.enter()
                    send(tester, try Pid.current)
                    let value = try await waitForGo(n)
                    gauge.leave()
                    return value
                }
                send(tester, results.compactMap(\.value))
            }
            // Hold two tasks, then let one finish per task that starts.
            var held = [try await receive(Pid.self), try await receive(Pid.self)]
            for _ in 3...6 {
                send(held.removeFirst(), "go" as Atom)
                held.append(try await receive(Pid.self))
            }
            for pid in held { send(pid, "go" as Atom) }
            #expect(try await receive([Int].self) == [1, 2, 3, 4, 5, 6])
            #expect(gauge.peak == 2)
        }
    }

    @Test("asyncStream with killTask kills a task that runs too long and reports exit timeout for it")
    func killTaskOnTimeout() async throws {
        try await withProcess {
            let results = try await Tasks.asyncStream([1, 2], timeout: 500, onTimeout: .killTask) { n in
                n == 1 ? try await runForever() : n
            }
            #expect(results == [.exit("timeout"), .ok(2)])
            #expect(try flush().isEmpty)
        }
    }

    @Test("asyncStream with exit on timeout kills the running tasks and throws timeout")
    func exitOnTimeout() async throws {
        try await withProcess {
            let me = try Pid.current
            await #expect(throws: TaskError.timeout) {
                try await Tasks.asyncStream([1, 2, 3], maxConcurrency: 3, timeout: 500) { n in
                    send(me, try Pid.current)
                    return try await runForever()
                }
            }
            let pids = try flush().compactMap { $0 as? Pid }
            #expect(pids.count == 3)
            #expect(pids.allSatisfy { !$0.isAlive })
        }
    }

    @Test("asyncStream reports a crashed task as an exit to a trapping caller, and takes other callers down")
    func crash() async throws {
        try await withProcess {
            try trapExits(true)
            let results = try await Tasks.asyncStream([1, 2], timeout: .infinity) { n in
                if n == 2 { throw RuntimeError("two") }
                return n
            }
            #expect(results == [.ok(1), .exit(.error(RuntimeError("two")))])
            let caller = spawn {
                _ = try await Tasks.asyncStream([1]) { (_: Int) -> Int in throw RuntimeError("one") }
            }
            let ref = try monitor(caller)
            #expect(try await down(ref)?.reason == .error(RuntimeError("one")))
        }
    }

    @Test("asyncStream of nothing returns nothing; outside a process it throws notInProcess")
    func emptyAndOutside() async throws {
        try await withProcess {
            let results = try await Tasks.asyncStream([Int]()) { $0 }
            #expect(results.isEmpty)
        }
        await #expect(throws: ProcessError.notInProcess("Tasks.asyncStream")) {
            try await Tasks.asyncStream([1]) { $0 }
        }
    }
}
