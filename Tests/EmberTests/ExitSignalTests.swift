import Synchronization
import Testing

@testable import Ember

/// DESIGN.md section 3, one test per row and column.
@Suite("Exit signals")
struct ExitSignalTests {
    /// Spawns a linked pair: a target (trapping or not) linked to a process
    /// that exits with `reason` when told. Returns the target's fate: its exit
    /// reason, or the exit message it received.
    enum Fate: Equatable {
        case exited(ExitReason)
        case received(ExitMessage)
        case unaffected
    }

    func linkedExit(_ reason: ExitReason, targetTraps: Bool) async throws -> (fate: Fate, from: Pid) {
        try await withProcess { () -> (Fate, Pid) in
            let observer = try Pid.current
            let target = spawn {
                try trapExits(targetTraps)
                let peer = try spawnLink { throw try await receive(ExitReason.self) }
                send(observer, peer)
                try await reportFate(to: observer)
            }
            let ref = try monitor(target)
            let peer = try await receive(Pid.self)
            let peerRef = try monitor(peer)
            send(peer, reason)
            // A process's links are signalled before its monitors, so once the
            // peer's DOWN is here, the target has had its exit signal.
            _ = try await down(peerRef)
            send(target, Atom("check"))
            return (try await fate(of: ref), peer)
        }
    }

    /// Run by a target: once told to check, reports the exit message it holds, if any.
    func reportFate(to observer: Pid) async throws {
        _ = try await receive { (m: Atom) in m == "check" ? m : nil }
        let message = try await receive(ExitMessage.self, after: 0)
        send(observer, message.map(Fate.received) ?? .unaffected)
    }

    /// Waits for the target's report or its DOWN message.
    func fate(of ref: Reference) async throws -> Fate {
        try await receive { (m: any Sendable) -> Fate? in
            if let fate = m as? Fate { return fate }
            if let down = m as? DownMessage, down.ref == ref { return .exited(down.reason) }
            return nil
        }
    }

    @Test("a linked process exiting normal does nothing to a target that does not trap exits")
    func linkedNormalNotTrapping() async throws {
        #expect(try await linkedExit(.normal, targetTraps: false).fate == .unaffected)
    }

    @Test("a linked process exiting normal gives a trapping target an EXIT message with normal")
    func linkedNormalTrapping() async throws {
        let (fate, from) = try await linkedExit(.normal, targetTraps: true)
        #expect(fate == .received(ExitMessage(from: from, reason: .normal)))
    }

    @Test("a linked process exits with the same reason", arguments: [ExitReason("boom"), .shutdown, .killed, .shutdown("bye")])
    func linkedAbnormalNotTrapping(reason: ExitReason) async throws {
        #expect(try await linkedExit(reason, targetTraps: false).fate == .exited(reason))
    }

    @Test("a trapping target receives abnormal link exits as messages", arguments: [ExitReason("boom"), .shutdown, .killed])
    func linkedAbnormalTrapping(reason: ExitReason) async throws {
        let (fate, from) = try await linkedExit(reason, targetTraps: true)
        #expect(fate == .received(ExitMessage(from: from, reason: reason)))
    }

    @Test("a link signal with reason kill makes a non-trapping target exit with kill, not killed")
    func linkedKillNotTrapping() async throws {
        #expect(try await linkedExit(.kill, targetTraps: false).fate == .exited(.kill))
    }

    @Test("a link signal with reason kill reaches a trapping target as a message with kill")
    func linkedKillTrapping() async throws {
        let (fate, from) = try await linkedExit(.kill, targetTraps: true)
        #expect(fate == .received(ExitMessage(from: from, reason: .kill)))
    }

    func explicitExit(_ reason: ExitReason, targetTraps: Bool) async throws -> (fate: Fate, sender: Pid) {
        try await withProcess { () -> (Fate, Pid) in
            let observer = try Pid.current
            let target = spawn {
                try trapExits(targetTraps)
                send(observer, Atom("ready"))
                try await reportFate(to: observer)
            }
            let ref = try monitor(target)
            _ = try await receive { (m: Atom) in m == "ready" ? m : nil }
            // The signal takes effect before `exit` returns.
            target.exit(reason)
            send(target, Atom("check"))
            return (try await fate(of: ref), observer)
        }
    }

    @Test("exit(pid, kill) makes the target exit with killed", arguments: [false, true])
    func explicitKill(traps: Bool) async throws {
        #expect(try await explicitExit(.kill, targetTraps: traps).fate == .exited(.killed))
    }

    @Test(
        "a receive in a process that is ended throws its exit reason",
        .timeLimit(.minutes(1)), arguments: [ExitReason.kill, "boom"]
    )
    func receiveThrowsTheExitReason(_ signal: ExitReason) async throws {
        // What a dead process sends goes nowhere: the victim hands what its
        // receive threw to this stream.
        let (thrown, report) = AsyncStream.makeStream(of: ExitReason.self)
        try await withProcess {
            let me = try Pid.current
            let victim = spawn {
                do {
                    send(me, Atom("ready"))
                    _ = try await receive(Int.self)
                } catch let reason as ExitReason {
                    report.yield(reason)
                }
            }
            _ = try await receive { (m: Atom) in m == "ready" ? m : nil }
            // Whether it is waiting yet or about to: it throws either way.
            victim.exit(signal)
        }
        var reasons = thrown.makeAsyncIterator()
        #expect(await reasons.next() == (signal == .kill ? .killed : signal))
    }

    @Test("exit(pid, normal) from another process is ignored by a non-trapping target")
    func explicitNormalIgnored() async throws {
        #expect(try await explicitExit(.normal, targetTraps: false).fate == .unaffected)
    }

    @Test("exit(pid, normal) from another process reaches a trapping target as a message")
    func explicitNormalTrapping() async throws {
        let (fate, sender) = try await explicitExit(.normal, targetTraps: true)
        #expect(fate == .received(ExitMessage(from: sender, reason: .normal)))
    }

    @Test("exit(pid, reason) makes a non-trapping target exit with reason; a trapping one gets a message")
    func explicitOther() async throws {
        #expect(try await explicitExit("boom", targetTraps: false).fate == .exited("boom"))
        let (fate, sender) = try await explicitExit("boom", targetTraps: true)
        #expect(fate == .received(ExitMessage(from: sender, reason: "boom")))
    }

    @Test("exit(self, normal) makes the caller exit normal, trapping or not", arguments: [false, true])
    func exitSelfNormal(traps: Bool) async throws {
        let reason = try await withProcess { () -> ExitReason? in
            let (_, ref) = try spawnMonitor {
                try trapExits(traps)
                try Pid.current.exit(.normal)
                _ = try await receive(Never.self, after: 5_000)
            }
            return try await down(ref)?.reason
        }
        #expect(reason == .normal)
    }

    @Test("linking to a dead pid throws noproc in a process that does not trap exits")
    func linkToDeadNotTrapping() async throws {
        let dead = spawn {}
        #expect(await eventually { !dead.isAlive })
        try await withProcess {
            #expect(throws: ProcessError.noproc(dead)) { try link(dead) }
            let links = try Pid.current.info()?.links
            #expect(links == [])
        }
    }

    @Test("linking to a dead pid while trapping exits succeeds and delivers EXIT with noproc")
    func linkToDeadTrapping() async throws {
        let dead = spawn {}
        #expect(await eventually { !dead.isAlive })
        let message = try await withProcess { () -> ExitMessage? in
            try trapExits(true)
            try link(dead)
            return try await exitMessage(from: dead)
        }
        #expect(message == ExitMessage(from: dead, reason: .noproc))
    }

    @Test("after unlink, the exit of the former peer is not delivered")
    func unlinkDropsSignals() async throws {
        let fate = try await withProcess { () -> String in
            try trapExits(true)
            let peer = try spawnLink { throw try await receive(ExitReason.self) }
            try unlink(peer)
            let ref = try monitor(peer)
            send(peer, ExitReason("boom"))
            _ = try await down(ref)
            return try await exitMessage(from: peer, within: 0) == nil ? "no exit message" : "exit message"
        }
        #expect(fate == "no exit message")
    }

    @Test("a link signal from a process no longer linked is dropped (a signal in flight at unlink)")
    func inFlightSignalDropped() {
        var state = ProcessState<Int>()
        let peer = Pid(node: 0, id: 7, serial: 0, creation: 0)
        let me = Pid(node: 0, id: 8, serial: 0, creation: 0)
        let added = state.addLink(peer)
        #expect(added)
        state.removeLink(peer)
        guard case .ignored = state.receiveExitSignal(from: peer, reason: "boom", kind: .link, me: me) else {
            Issue.record("an unlinked peer's signal was honoured")
            return
        }
        #expect(state.isAlive)
    }

    @Test("a killed process is dead at once for everyone: links, monitors and its name")
    func killIsImmediate() async throws {
        try await withProcess {
            try trapExits(true)
            let victim = try spawnLink { _ = try await receive(Never.self) }
            try register(victim, as: "victim_kill_immediate")
            let ref = try monitor(victim)
            victim.exit(.kill)
            #expect(!victim.isAlive)
            #expect(whereis("victim_kill_immediate") == nil)
            #expect(try await exitMessage(from: victim)?.reason == .killed)
            #expect(try await down(ref)?.reason == .killed)
        }
    }

    @Test("a killed process's Swift code unwinds at its next suspension point")
    func killUnwinds() async throws {
        let unwound = Mutex<[String]>([])
        try await withProcess {
            let inReceive = spawn {
                defer { unwound.withLock { $0.append("receive") } }
                _ = try await receive(Never.self)
            }
            let inSleep = spawn {
                defer { unwound.withLock { $0.append("sleep") } }
                try await Task.sleep(for: .seconds(60))
            }
            #expect(await eventually { inReceive.info()?.status == .waiting })
            inReceive.exit(.kill)
            inSleep.exit(.kill)
        }
        #expect(await eventually { unwound.withLock { $0.count } == 2 })
    }

    @Test("a killed process sends nothing, even before it reaches a suspension point")
    func killedProcessIsSilent() async throws {
        let got = try await withProcess { () -> Int? in
            let me = try Pid.current
            let gate = Mutex(false)
            let busy = spawn {
                // Busy, with no suspension point (bounded so it cannot hog a scheduler for long).
                let until = ContinuousClock.now + .seconds(1)
                while !gate.withLock({ $0 }) && ContinuousClock.now < until {}
                send(me, 42)
            }
            busy.exit(.kill)
            gate.withLock { $0 = true }
            return try await receive(Int.self, after: 200)
        }
        #expect(got == nil)
    }

    @Test("an error thrown by the body is the exit reason; an ExitReason thrown is used as is")
    func thrownReasons() async throws {
        try await withProcess {
            let (_, crash) = try spawnMonitor { throw RuntimeError("bad") }
            #expect(try await down(crash)?.reason == .error(RuntimeError("bad")))
            let (_, quit) = try spawnMonitor { throw ExitReason.shutdown }
            #expect(try await down(quit)?.reason == .shutdown)
            let (_, done) = try spawnMonitor {}
            #expect(try await down(done)?.reason == .normal)
        }
    }

    @Test("exit reasons print as Elixir prints them")
    func reasonDescriptions() {
        #expect(ExitReason.normal.description == ":normal")
        #expect(ExitReason.shutdown("x").description == "{:shutdown, x}")
        #expect(ExitReason.error(RuntimeError("oops")).description == "an exception was raised:\n    ** (RuntimeError) oops")
    }

    @Test("a reason named by its atom is the well-known reason of that name, however it was made")
    func wellKnownReasons() {
        let named: [(ExitReason, String)] = [
            (.normal, "normal"), (.shutdown, "shutdown"), (.kill, "kill"),
            (.killed, "killed"), (.noproc, "noproc"), (.noconnection, "noconnection"),
        ]
        for (reason, name) in named {
            #expect(ExitReason(Atom(name)) == reason)
            #expect(ExitReason(stringLiteral: name) == reason)
            #expect(reason.atom == Atom(name))
            #expect(reason.description == ":\(name)")
            #expect(reason.isOrderly == (name == "normal" || name == "shutdown"))
        }
        #expect(ExitReason("boom") != .normal && ExitReason("boom").atom == "boom" && !ExitReason("boom").isOrderly)
        #expect(ExitReason.shutdown("normal") != .normal && ExitReason.shutdown("normal").atom == nil)
    }
}
