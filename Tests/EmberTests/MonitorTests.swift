import Testing

@testable import Ember

@Suite("Monitors")
struct MonitorTests {
    @Test("a DOWN message carries the monitored process's exit reason")
    func downCarriesReason() async throws {
        let reason = try await withProcess { () -> ExitReason? in
            let pid = spawn { throw try await receive(ExitReason.self) }
            let ref = try monitor(pid)
            send(pid, ExitReason("boom"))
            let message = try await down(ref)
            #expect(message?.pid == pid)
            return message?.reason
        }
        #expect(reason == "boom")
    }

    @Test("monitoring a dead pid yields an immediate DOWN with noproc")
    func monitorDead() async throws {
        let dead = spawn {}
        #expect(await eventually { !dead.isAlive })
        let message = try await withProcess { () -> DownMessage? in
            let ref = try monitor(dead)
            return try await down(ref, within: 0)
        }
        #expect(message?.reason == .noproc)
        #expect(message?.pid == dead)
    }

    @Test("every monitor call creates an independent monitor with its own DOWN")
    func independentMonitors() async throws {
        try await withProcess {
            let pid = idleProcess()
            let first = try monitor(pid)
            let second = try monitor(pid)
            #expect(first != second)
            #expect(pid.info()?.monitoredBy == [try Pid.current, try Pid.current])
            send(pid, Atom("stop"))
            #expect(try await down(first)?.reason == .normal)
            #expect(try await down(second)?.reason == .normal)
        }
    }

    @Test("demonitor removes the monitor: no DOWN arrives afterwards")
    func demonitorStopsDown() async throws {
        try await withProcess {
            let pid = idleProcess()
            let ref = try monitor(pid)
            #expect(try demonitor(ref))
            #expect(pid.info()?.monitoredBy == [])
            let watch = try monitor(pid)
            send(pid, Atom("stop"))
            _ = try await down(watch)  // the other monitor's DOWN has arrived by now
            #expect(try await down(ref, within: 0) == nil)
            #expect(try demonitor(ref) == false)
        }
    }

    @Test("demonitor with flush removes a DOWN message already in the mailbox")
    func demonitorFlush() async throws {
        try await withProcess {
            let pid = spawn {}
            let ref = try monitor(pid)
            let watch = try monitor(pid)
            _ = try await down(watch)
            #expect(try Pid.current.info()?.messageQueueLength == 1)
            #expect(try demonitor(ref, flush: true) == false)
            #expect(try Pid.current.info()?.messageQueueLength == 0)
        }
    }

    @Test("spawnMonitor starts a process already monitored")
    func spawnMonitorWorks() async throws {
        try await withProcess {
            let (pid, ref) = try spawnMonitor { throw ExitReason.shutdown }
            let message = try await down(ref)
            #expect(message == DownMessage(ref: ref, pid: pid, reason: .shutdown))
        }
    }

    @Test("a process that exits drops the monitors it held on others")
    func watcherExitCleansUp() async throws {
        try await withProcess {
            let target = idleProcess()
            let watcher = spawn {
                try monitor(target)
                _ = try await receive(Atom.self)
            }
            #expect(await eventually { target.info()?.monitoredBy == [watcher] })
            send(watcher, Atom("go"))
            #expect(await eventually { target.info()?.monitoredBy == [] })
            send(target, Atom("stop"))
        }
    }
}

@Suite("Names")
struct NameTests {
    @Test("a registered name finds the process, takes messages, and is freed when it dies")
    func registerAndSend() async throws {
        try await withProcess {
            let me = try Pid.current
            let pid = spawn {
                let text = try await receive(String.self)
                send(me, text + "!")
            }
            try register(pid, as: "names_echo")
            #expect(whereis("names_echo") == pid)
            #expect(registered().contains("names_echo"))
            #expect(pid.info()?.registeredName == "names_echo")
            try send(Atom("names_echo"), "hi")
            #expect(try await receive(String.self) == "hi!")
            #expect(await eventually { whereis("names_echo") == nil })
        }
    }

    @Test("registering a taken name, a dead pid or a second name is a typed error")
    func registerErrors() async throws {
        let first = idleProcess()
        let second = idleProcess()
        try register(first, as: "names_taken")
        #expect(throws: ProcessError.nameTaken("names_taken")) { try register(second, as: "names_taken") }
        #expect(throws: ProcessError.alreadyRegistered(first, as: "names_taken")) { try register(first, as: "names_other") }
        #expect(throws: ProcessError.reservedName("undefined")) { try register(second, as: "undefined") }
        let dead = spawn {}
        #expect(await eventually { !dead.isAlive })
        #expect(throws: ProcessError.noproc(dead)) { try register(dead, as: "names_dead") }
        try unregister("names_taken")
        #expect(whereis("names_taken") == nil)
        #expect(first.info()?.registeredName == nil)
        try register(second, as: "names_taken")
        #expect(whereis("names_taken") == second)
        send(first, Atom("stop"))
        send(second, Atom("stop"))
    }

    @Test("sending to or unregistering an unknown name is a typed error")
    func unknownName() throws {
        #expect(throws: ProcessError.unknownName("names_nobody")) { try send(Atom("names_nobody"), 1) }
        #expect(throws: ProcessError.unknownName("names_nobody")) { try unregister("names_nobody") }
    }
}

@Suite("Processes")
struct ProcessTests {
    @Test("sending to a dead pid is a silent no-op")
    func sendToDead() async throws {
        let dead = spawn {}
        #expect(await eventually { !dead.isAlive })
        #expect(send(dead, "hello") == "hello")
        #expect(send(Pid.external, "hello") == "hello")
    }

    @Test("process-only functions outside a process throw notInProcess")
    func outsideProcess() async throws {
        #expect(throws: ProcessError.notInProcess("Pid.current")) { try Pid.current }
        await #expect(throws: ProcessError.notInProcess("receive")) { try await receive(Int.self) }
        #expect(throws: ProcessError.notInProcess("flush")) { try flush() }
        #expect(throws: ProcessError.notInProcess("link")) { try link(Pid.external) }
        #expect(throws: ProcessError.notInProcess("monitor")) { try monitor(Pid.external) }
        #expect(throws: ProcessError.notInProcess("trapExits")) { try trapExits(true) }
        #expect(throws: ProcessError.notInProcess("spawnLink")) { try spawnLink {} }
    }

    @Test("a Swift child task inside a process can send but is not the process")
    func childTaskIsNotTheProcess() async throws {
        let (childSees, parentGets) = try await withProcess { () -> (String, Int) in
            let me = try Pid.current
            async let seen: String = {
                send(me, 7)
                do {
                    _ = try Pid.current
                    return "a process"
                } catch {
                    return "not a process"
                }
            }()
            let childSees = await seen
            return (childSees, try await receive(Int.self))
        }
        #expect(childSees == "not a process")
        #expect(parentGets == 7)
    }

    @Test("info reports status, queue length, links, monitors, name and the trap-exit flag")
    func info() async throws {
        try await withProcess {
            let me = try Pid.current
            try trapExits(true)
            let pid = try spawnLink { _ = try await receive { (m: Atom) in m == "stop" ? m : nil } }
            let ref = try monitor(pid)
            try register(pid, as: "info_subject")
            send(pid, 1)
            send(pid, 2)
            #expect(await eventually { pid.info()?.status == .waiting })
            let info = try #require(pid.info())
            #expect(info.messageQueueLength == 2)
            #expect(info.links == [me])
            #expect(info.monitoredBy == [me])
            #expect(info.registeredName == "info_subject")
            #expect(info.trapsExits == false)
            let mine = try #require(me.info())
            #expect(mine.trapsExits)
            #expect(mine.monitors == [pid])
            #expect(mine.status == .running)
            send(pid, Atom("stop"))
            _ = try await down(ref)
            #expect(pid.info() == nil)
        }
    }

    @Test("the list of processes holds live processes and drops dead ones")
    func processList() async throws {
        let pid = idleProcess()
        #expect(processes().contains(pid))
        send(pid, Atom("stop"))
        #expect(await eventually { !processes().contains(pid) })
    }

    @Test("pids print as #PID<0.N.S>, are hashable and stay equal across copies")
    func pidValues() async throws {
        let pid = idleProcess()
        let copy = pid
        #expect(Set([pid, copy]).count == 1)
        #expect(pid.description == "#PID<0.\(pid.id).\(pid.serial)>")
        send(pid, Atom("stop"))
    }

    @Test("inspect renders values the way Elixir does")
    func inspectValues() {
        #expect(inspect((Atom("hello"), "world")) == "{:hello, \"world\"}")
        #expect(inspect([1, 2]) == "[1, 2]")
        #expect(inspect(Atom("with space")) == ":\"with space\"")
        #expect(inspect(["a": 1]) == "%{\"a\" => 1}")
    }
}
