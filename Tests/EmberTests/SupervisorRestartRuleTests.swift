import Testing

@testable import Ember

/// The pure rules, checked without processes: restart intensity, which
/// children each strategy stops and starts, and what is reported.
@Suite("Supervisor restart rules")
struct SupervisorRestartRuleTests {
    typealias Core = Supervisor.Core
    typealias Key = Supervisor.ChildKey
    typealias Summary = Supervisor.ChildSummary

    /// A pid no process has: node 7 is not this one.
    static func pid(_ n: UInt32) -> Pid { Pid(node: 7, id: n, serial: 0, creation: 0) }

    static func spec(_ id: String, _ restart: Supervisor.Restart = .permanent) -> Supervisor.ChildSpec {
        .worker(id: id, restart: restart) { throw RuntimeError("not started in these tests") }
    }

    /// A core whose children `specs` run as pids 1, 2, 3, …
    static func core(
        _ strategy: Supervisor.Strategy, _ specs: [Supervisor.ChildSpec], maxRestarts: Int = 3
    ) -> (Core, [Key]) {
        var core = Core(strategy: strategy, intensity: .init(maxRestarts: maxRestarts, maxSeconds: 5))
        let keys = specs.enumerated().map { index, spec in
            core.children.add(spec, status: .running(pid(UInt32(index + 1))))
        }
        return (core, keys)
    }

    static func terminated(_ id: String, _ n: UInt32, _ reason: ExitReason, _ restart: Supervisor.Restart = .permanent) -> Core.Action {
        .report(Supervisor.Report(.childTerminated, Summary(id: id, restart: restart), pid: pid(n), reason: reason))
    }

    static func termination(_ id: String, _ n: UInt32, _ restart: Supervisor.Restart = .permanent) -> Supervisor.Termination {
        Supervisor.Termination(pid: pid(n), child: Summary(id: id, restart: restart))
    }

    // MARK: Intensity

    @Test("the intensity allows maxRestarts restarts within maxSeconds and refuses one more")
    func intensityLimit() {
        var intensity = Supervisor.RestartIntensity(maxRestarts: 3, maxSeconds: 5)
        let start = ContinuousClock.now
        let answers = (0..<4).map { intensity.allowsRestart(at: start + .seconds($0)) }
        #expect(answers == [true, true, true, false])
    }

    @Test("restarts older than maxSeconds no longer count")
    func intensityWindow() {
        var intensity = Supervisor.RestartIntensity(maxRestarts: 2, maxSeconds: 5)
        let start = ContinuousClock.now
        // The first drops out of the window just before the third comes.
        let offsets: [Duration] = [.zero, .seconds(4), .milliseconds(5_001), .seconds(6)]
        let answers = offsets.map { intensity.allowsRestart(at: start + $0) }
        #expect(answers == [true, true, true, false])
    }

    @Test("maxRestarts 0 refuses the first restart")
    func intensityZero() {
        var intensity = Supervisor.RestartIntensity(maxRestarts: 0, maxSeconds: 5)
        let allowed = intensity.allowsRestart(at: .now)
        #expect(!allowed)
    }

    // MARK: Restart types

    @Test("permanent children restart after any exit, transient ones after a crash, temporary ones never", arguments: [
        (Supervisor.Restart.permanent, ExitReason.normal, true), (.permanent, .shutdown, true), (.permanent, "boom", true),
        (.transient, .normal, false), (.transient, .shutdown, false), (.transient, .shutdown("x"), false),
        (.transient, "boom", true), (.transient, .killed, true),
        (.temporary, .normal, false), (.temporary, "boom", false),
    ])
    func restartTypes(restart: Supervisor.Restart, reason: ExitReason, restarts: Bool) {
        #expect(restart.restarts(after: reason) == restarts)
    }

    @Test("the defaults: permanent, 5 seconds to shut down for a worker, infinity for a supervisor")
    func defaults() {
        let worker = Supervisor.ChildSpec(id: "w") { throw RuntimeError("unused") }
        let supervisor = Supervisor.ChildSpec(id: "s", type: .supervisor) { throw RuntimeError("unused") }
        #expect(worker.restart == .permanent && worker.shutdown == .timeout(5_000) && worker.type == .worker)
        #expect(supervisor.shutdown == .infinity && supervisor.type == .supervisor)
        #expect(Supervisor.ChildSpec.supervisor(id: "s") { throw RuntimeError("unused") }.shutdown == .infinity)
        #expect(Supervisor.ChildSpec.worker(id: "w") { throw RuntimeError("unused") }.shutdown == .timeout(5_000))
        #expect(Supervisor.Shutdown.timeout(-5) == .timeout(0))
    }

    // MARK: Strategies

    @Test("one for one restarts only the child that exited")
    func oneForOne() {
        var (core, keys) = Self.core(.oneForOne, ["a", "b", "c"].map { Self.spec($0) })
        let actions = core.childExited(Self.pid(2), reason: "boom", at: .now)
        #expect(actions == [Self.terminated("b", 2, "boom"), .start([keys[1]])])
        #expect(core.children[keys[1]]?.status == .stopped)
        #expect(core.children[keys[0]]?.status == .running(Self.pid(1)))
    }

    @Test("one for all stops the others newest first and starts all in order")
    func oneForAll() {
        var (core, keys) = Self.core(.oneForAll, ["a", "b", "c"].map { Self.spec($0) })
        let actions = core.childExited(Self.pid(2), reason: "boom", at: .now)
        #expect(actions == [
            Self.terminated("b", 2, "boom"),
            .terminate([Self.termination("c", 3), Self.termination("a", 1)]),
            .start(keys),
        ])
        #expect(keys.allSatisfy { core.children[$0]?.status == .stopped })
    }

    @Test("rest for one stops the children started after it, newest first, and starts it and them in order")
    func restForOne() {
        var (core, keys) = Self.core(.restForOne, ["a", "b", "c", "d"].map { Self.spec($0) })
        let actions = core.childExited(Self.pid(2), reason: "boom", at: .now)
        #expect(actions == [
            Self.terminated("b", 2, "boom"),
            .terminate([Self.termination("d", 4), Self.termination("c", 3)]),
            .start(Array(keys[1...])),
        ])
        #expect(core.children[keys[0]]?.status == .running(Self.pid(1)))
    }

    @Test("temporary siblings stopped by a one for all restart are dropped, not restarted")
    func temporarySiblings() {
        var (core, keys) = Self.core(.oneForAll, [Self.spec("a", .temporary), Self.spec("b"), Self.spec("c")])
        let actions = core.childExited(Self.pid(3), reason: "boom", at: .now)
        #expect(actions == [
            Self.terminated("c", 3, "boom"),
            .terminate([Self.termination("b", 2), Self.termination("a", 1, .temporary)]),
            .start([keys[1], keys[2]]),
        ])
        #expect(core.children[keys[0]] == nil)
    }

    @Test("an exit from a process that is not a child changes nothing")
    func notAChild() {
        var (core, _) = Self.core(.oneForAll, ["a"].map { Self.spec($0) })
        let actions = core.childExited(Self.pid(99), reason: "boom", at: .now)
        #expect(actions.isEmpty)
        #expect(core.children.counts.active == 1)
    }

    @Test("a child that is not restarted: temporary ones are dropped, transient ones kept stopped; only crashes are reported")
    func notRestarted() {
        var (core, keys) = Self.core(
            .oneForAll, [Self.spec("t", .temporary), Self.spec("u", .transient), Self.spec("v", .temporary)])
        let normal = core.childExited(Self.pid(1), reason: .normal, at: .now)
        let orderly = core.childExited(Self.pid(2), reason: .shutdown("done"), at: .now)
        let crash = core.childExited(Self.pid(3), reason: "boom", at: .now)
        #expect(normal.isEmpty && orderly.isEmpty)
        #expect(crash == [Self.terminated("v", 3, "boom", .temporary)])
        #expect(core.children.infos == [Supervisor.ChildInfo(id: "u", pid: nil, type: .worker)])
        #expect(core.children[keys[1]]?.status == .stopped)
    }

    @Test("a dynamic supervisor's core drops the children that will not run again")
    func dynamicForgets() {
        var core = Core(strategy: .oneForOne, intensity: .init(maxRestarts: 3, maxSeconds: 5), keepsStoppedChildren: false)
        core.children.add(Self.spec("t", .transient), status: .running(Self.pid(1)))
        let key = core.children.add(Self.spec("p"), status: .running(Self.pid(2)))
        let actions = core.childExited(Self.pid(1), reason: .normal, at: .now)
        #expect(actions.isEmpty)
        #expect(core.children.infos.map(\.id) == ["p"])
        let termination = core.stop(key, forgetting: false)
        #expect(termination == Self.termination("p", 2) && core.children.count == 0)
    }

    @Test("a permanent child that exits normally is reported and restarted")
    func permanentNormalExit() {
        var (core, keys) = Self.core(.oneForOne, [Self.spec("a")])
        let actions = core.childExited(Self.pid(1), reason: .normal, at: .now)
        #expect(actions == [Self.terminated("a", 1, .normal), .start(keys)])
    }

    @Test("one restart too many reports it and gives up")
    func givesUp() {
        var (core, keys) = Self.core(.oneForOne, [Self.spec("a")], maxRestarts: 1)
        let now = ContinuousClock.now
        let first = core.childExited(Self.pid(1), reason: "boom", at: now)
        #expect(first == [Self.terminated("a", 1, "boom"), .start(keys)])
        core.started(keys[0], pid: Self.pid(2))
        let second = core.childExited(Self.pid(2), reason: "boom", at: now)
        #expect(second == [
            Self.terminated("a", 2, "boom"),
            .report(Supervisor.Report(.reachedMaxIntensity, Summary(id: "a"), pid: Self.pid(2), reason: "reached_max_restart_intensity")),
            .giveUp,
        ])
        let leftToStop = core.terminateAll()
        #expect(leftToStop.isEmpty)
    }

    @Test("a failed restart makes the child restarting and queues a retry, which restarts what the strategy says")
    func failedRestart() {
        var (core, keys) = Self.core(.oneForAll, ["a", "b", "c"].map { Self.spec($0) })
        _ = core.childExited(Self.pid(2), reason: "boom", at: .now)
        core.started(keys[0], pid: Self.pid(4))
        let failure = core.restartFailed(keys[1], reason: "nope")
        #expect(failure == [
            .report(Supervisor.Report(.startError, Summary(id: "b"), pid: nil, reason: "nope")), .retryLater(keys[1]),
        ])
        #expect(core.children.infos.map(\.isRestarting) == [false, true, false])
        let retry = core.retry(keys[1], at: .now)
        #expect(retry == [.terminate([Self.termination("a", 4)]), .start(keys)])
        let secondRetry = core.retry(keys[1], at: .now)
        #expect(secondRetry.isEmpty)
    }

    @Test("a retry for a child that was terminated meanwhile does nothing")
    func staleRetry() {
        var (core, keys) = Self.core(.oneForOne, [Self.spec("a")])
        _ = core.childExited(Self.pid(1), reason: "boom", at: .now)
        _ = core.restartFailed(keys[0], reason: "nope")
        let termination = core.stop(keys[0], forgetting: false)
        let retry = core.retry(keys[0], at: .now)
        #expect(termination == nil && retry.isEmpty)
        #expect(core.children[keys[0]]?.status == .stopped)
    }

    @Test("stopping on request keeps the spec unless the child is temporary or is to be forgotten")
    func stopOnRequest() {
        var (core, keys) = Self.core(.oneForOne, [Self.spec("a"), Self.spec("t", .temporary), Self.spec("f")])
        let terminations = [
            core.stop(keys[0], forgetting: false), core.stop(keys[1], forgetting: false), core.stop(keys[2], forgetting: true),
        ]
        #expect(terminations == [Self.termination("a", 1), Self.termination("t", 2, .temporary), Self.termination("f", 3)])
        #expect(core.children.infos == [Supervisor.ChildInfo(id: "a", pid: nil, type: .worker)])
    }

    @Test("on exit every running child is stopped, newest first")
    func terminateAll() {
        var (core, keys) = Self.core(.oneForOne, ["a", "b", "c"].map { Self.spec($0) })
        _ = core.stop(keys[1], forgetting: false)
        let terminations = core.terminateAll()
        #expect(terminations == [Self.termination("c", 3), Self.termination("a", 1)])
    }

    // MARK: Table, shutdown and reports

    @Test("counts and infos follow start order and status")
    func table() {
        var table = Supervisor.ChildTable()
        let supervisorSpec = Supervisor.ChildSpec.supervisor(id: "s") { throw RuntimeError("unused") }
        table.add(Self.spec("a"), status: .running(Self.pid(1)))
        let s = table.add(supervisorSpec, status: .stopped)
        let c = table.add(Self.spec("c"), status: .restarting)
        #expect(table.counts == .init(specs: 3, active: 1, supervisors: 1, workers: 2))
        #expect(table.infos == [
            .init(id: "a", pid: Self.pid(1), type: .worker), .init(id: "s", pid: nil, type: .supervisor),
            .init(id: "c", pid: nil, type: .worker, isRestarting: true),
        ])
        table.setStatus(.running(Self.pid(5)), of: c)
        #expect(table.key(of: Self.pid(5)) == c && table.key(ofId: "s") == s)
        table.remove(c)
        #expect(table.key(of: Self.pid(5)) == nil && table.count == 2)
    }

    @Test("a child stopped cleanly: shutdown always, killed only when killing was the plan, normal unless permanent")
    func cleanShutdown() {
        let worker = Summary(id: "w")
        let brutal = Summary(id: "b", shutdown: .brutalKill)
        let transient = Summary(id: "t", restart: .transient)
        #expect(Supervisor.ChildShutdown.isClean(.shutdown, for: worker))
        #expect(Supervisor.ChildShutdown.isClean(.shutdown("bye"), for: worker))
        #expect(!Supervisor.ChildShutdown.isClean(.killed, for: worker))
        #expect(Supervisor.ChildShutdown.isClean(.killed, for: brutal))
        #expect(!Supervisor.ChildShutdown.isClean(.normal, for: worker))
        #expect(Supervisor.ChildShutdown.isClean(.normal, for: transient))
        #expect(!Supervisor.ChildShutdown.isClean("boom", for: transient))
    }

    @Test("reports read like Elixir's")
    func reportText() {
        let child = Summary(id: "db", restart: .transient, shutdown: .brutalKill, type: .worker)
        #expect(Supervisor.Report(.childTerminated, child, pid: Self.pid(3), reason: "boom").text(supervisor: ":app") == """
            Child "db" of Supervisor :app terminated
            ** (exit) :boom
            Pid: #PID<7.3.0>
            Restart: :transient
            Shutdown: :brutal_kill
            Type: :worker
            """)
        #expect(Supervisor.Report(.startError, child, pid: nil, reason: "x").text(supervisor: ":app").hasPrefix(
            "Child \"db\" of Supervisor :app failed to start\n** (exit) :x\nRestart:"))
        #expect(Supervisor.Report(.shutdownError, child, pid: nil, reason: "x").text(supervisor: ":app").contains("shut down abnormally"))
        #expect(!Supervisor.Report(.reachedMaxIntensity, child, pid: Self.pid(3), reason: "x").text(supervisor: ":app").contains("Pid:"))
    }
}
