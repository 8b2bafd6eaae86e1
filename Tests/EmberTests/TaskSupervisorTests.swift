import Testing

@testable import Ember

@Suite("TaskSupervisor")
struct TaskSupervisorTests {
    init() { _ = CapturedLogs.shared }

    @Test("async starts a task under the supervisor, linked to and monitored by the caller")
    func asyncUnderSupervisor() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await TaskSupervisor.startLink()
            let task = try await TaskSupervisor.async(supervisor) { try await waitForGo("hi") }
            #expect(task.owner == me)
            #expect(try await TaskSupervisor.children(supervisor) == [task.pid])
            let links = task.pid.info()?.links ?? []
            #expect(links.contains(me) && links.contains(supervisor))
            #expect(task.pid.info()?.monitoredBy.contains(me) == true)
            send(task.pid, "go" as Atom)
            #expect(try await task.value() == "hi")
            #expect(await eventually { !task.pid.isAlive })
            #expect(try await TaskSupervisor.children(supervisor).isEmpty)
        }
    }

    @Test("a crashing async task takes its owner down, not the supervisor, and is not restarted")
    func asyncCrashTakesOwnerDown() async throws {
        try await withProcess {
            let supervisor = try await TaskSupervisor.startLink()
            let owner = spawn {
                let task = try await TaskSupervisor.async(supervisor) { () async throws -> Int in throw RuntimeError("boom") }
                _ = try await task.value()
            }
            let ref = try monitor(owner)
            #expect(try await down(ref)?.reason == .error(RuntimeError("boom")))
            #expect(supervisor.isAlive)
            #expect(try await TaskSupervisor.children(supervisor).isEmpty)
        }
    }

    @Test("asyncNolink: a crash reaches the owner as a failed value, not an exit signal, and logs the task report")
    func asyncNolinkCrash() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await TaskSupervisor.startLink()
            let task = try await TaskSupervisor.asyncNolink(supervisor) { () async throws -> Int in
                _ = try await waitForGo(())
                throw RuntimeError("nolink")
            }
            #expect(task.pid.info()?.links.contains(me) == false)
            send(task.pid, "go" as Atom)
            await #expect(throws: TaskError.exited(.error(RuntimeError("nolink")))) { try await task.value() }
            let report = CapturedLogs.shared.messages(for: task.pid).first ?? ""
            #expect(report.contains("Task \(task.pid) started from \(me) terminating"))
            #expect(try await TaskSupervisor.children(supervisor).isEmpty)
        }
    }

    @Test("asyncNolink tasks can be yielded and shut down like any task")
    func asyncNolinkYieldShutdown() async throws {
        try await withProcess {
            let supervisor = try await TaskSupervisor.startLink()
            let task = try await TaskSupervisor.asyncNolink(supervisor, runForever)
            #expect(try await task.yield(timeout: 0) == nil)
            #expect(try await task.shutdown() == nil)
            #expect(try await TaskSupervisor.children(supervisor).isEmpty)
        }
    }

    @Test("a task whose owner exits before handing it its reply address stops with shutdown")
    func ownerGoneBeforeHandoff() async throws {
        try await withProcess {
            let supervisor = try await TaskSupervisor.startLink()
            let tester = try Pid.current
            // The owner's request reaches the supervisor, but the owner is
            // killed before it can tell the task whom to reply to: a task
            // started through the supervisor's call, seen from the test.
            let owner = spawn { _ = try await receive(Forever.self) }
            let pid = try await DynamicSupervisor.startChild(supervisor, TaskSupervisor.childSpec(
                SpawnOrigin(parent: owner, file: #fileID, line: #line, function: #function, kind: .task)
            ) {
                let ownerMonitor = try monitor(owner)
                send(tester, "waiting" as Atom)
                _ = try await TaskStart.receive(from: owner, ownerMonitor: ownerMonitor)
            })
            let watch = try monitor(pid)
            _ = try await receive { (message: Atom) in message == "waiting" ? () : nil }
            owner.exit(.kill)
            #expect(try await down(watch)?.reason == .shutdown("owner exited: :killed"))
        }
    }

    @Test("startChild starts a temporary task not linked to the caller; children lists it; terminateChild stops it")
    func startChildAndTerminate() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await TaskSupervisor.startLink()
            let a = try await TaskSupervisor.startChild(supervisor) { _ = try await runForever() }
            let b = try await TaskSupervisor.startChild(supervisor) { _ = try await runForever() }
            #expect(try await TaskSupervisor.children(supervisor) == [a, b])
            #expect(a.info()?.links == [supervisor])
            #expect(a.info()?.links.contains(me) == false)
            let watch = try monitor(a)
            try await TaskSupervisor.terminateChild(supervisor, a)
            #expect(try await down(watch)?.reason == .shutdown)
            #expect(try await TaskSupervisor.children(supervisor) == [b])
            await #expect(throws: SupervisorError.notFound) { try await TaskSupervisor.terminateChild(supervisor, a) }
        }
    }

    @Test("a crashing startChild task is logged as a task started from the caller and not restarted")
    func startChildCrash() async throws {
        try await withProcess {
            let me = try Pid.current
            let supervisor = try await TaskSupervisor.startLink()
            let pid = try await TaskSupervisor.startChild(supervisor) {
                _ = try await waitForGo(())
                throw RuntimeError("child oops")
            }
            let watch = try monitor(pid)
            send(pid, "go" as Atom)
            #expect(try await down(watch)?.reason == .error(RuntimeError("child oops")))
            let report = CapturedLogs.shared.messages(for: pid).first ?? ""
            #expect(report.contains("Task \(pid) started from \(me) terminating"))
            #expect(report.contains("** (RuntimeError) child oops"))
            #expect(try await TaskSupervisor.children(supervisor).isEmpty)
            #expect(supervisor.isAlive)
        }
    }

    @Test("startChild throws maxChildren when the supervisor is full")
    func maxChildren() async throws {
        try await withProcess {
            let supervisor = try await TaskSupervisor.startLink(maxChildren: 1)
            try await TaskSupervisor.startChild(supervisor) { _ = try await runForever() }
            await #expect(throws: SupervisorError.maxChildren) {
                try await TaskSupervisor.startChild(supervisor) {}
            }
            await #expect(throws: SupervisorError.maxChildren) {
                try await TaskSupervisor.asyncNolink(supervisor) { 1 }
            }
        }
    }

    @Test("stopping the supervisor shuts its tasks down")
    func stopShutsTasksDown() async throws {
        try await withProcess {
            let supervisor = try await TaskSupervisor.startLink(name: "task_sup_stop")
            let pid = try await TaskSupervisor.startChild(supervisor) { _ = try await runForever() }
            let watch = try monitor(pid)
            try await DynamicSupervisor.stop("task_sup_stop")
            #expect(try await down(watch)?.reason == .shutdown)
        }
    }

    @Test("calls on a supervisor that is not alive throw noproc; async outside a process throws notInProcess")
    func errors() async throws {
        let dead = try await withProcess { try Pid.current }
        try await withProcess {
            await #expect(throws: CallError.noproc) { try await TaskSupervisor.children(dead) }
            await #expect(throws: CallError.noproc) { try await TaskSupervisor.startChild(dead) {} }
            await #expect(throws: CallError.noproc) { try await TaskSupervisor.async(dead) { 1 } }
        }
        await #expect(throws: ProcessError.notInProcess("TaskSupervisor.async")) {
            try await TaskSupervisor.async(dead) { 1 }
        }
    }
}
