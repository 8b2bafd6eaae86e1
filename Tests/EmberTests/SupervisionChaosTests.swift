import Testing

@testable import Ember

/// A supervision tree under random kills: a root supervisor, ten mid
/// supervisors (one for one) with a hundred workers each, and a counter.
@Suite("Supervision chaos")
struct SupervisionChaosTests {
    static let mids = 10
    static let workersPerMid = 100
    static let chaos: Duration = .seconds(3)

    init() { _ = CapturedLogs.shared }

    struct Never: Sendable {}

    /// What the chaos and the client tell the test when they are done.
    struct Killed: Sendable { let pids: Set<Pid> }
    struct ClientReport: Sendable { let acknowledged: Int, lost: Bool }

    /// An Agent holding an Int: each acknowledged update is a completed call.
    static let counter = Supervisor.ChildSpec.worker(id: "counter") {
        try await Agent.startLink { 0 }.pid
    }

    static func worker(_ id: String) -> Supervisor.ChildSpec {
        .worker(id: id) { try spawnLink { _ = try await receive(Never.self) } }
    }

    static func mid(_ index: Int) -> Supervisor.ChildSpec {
        .supervisor(id: "mid\(index)") {
            try await Supervisor.startLink(
                children: (0..<workersPerMid).map { worker("w\(index).\($0)") }, strategy: .oneForOne,
                maxRestarts: 1_000_000, maxSeconds: 1)
        }
    }

    /// Kills random workers until `deadline`, a few per look at a random mid
    /// supervisor, with an untrappable kill or an abnormal reason; returns
    /// every pid it killed.
    static func killRandomWorkers(under mids: [Pid], until deadline: ContinuousClock.Instant) async throws -> Set<Pid> {
        var killed = Set<Pid>()
        while ContinuousClock.now < deadline {
            let mid = mids[Int.random(in: 0..<mids.count)]
            let running = try await Supervisor.whichChildren(mid).compactMap(\.pid)
            for _ in 0..<3 {
                guard let victim = running.randomElement(), killed.insert(victim).inserted else { continue }
                victim.exit(Bool.random() ? .kill : "chaos")
            }
        }
        return killed
    }

    /// Increments the counter one acknowledged step at a time until told to
    /// stop; reports how many increments were acknowledged.
    static func incrementUntilStopped(_ counter: Pid, reportTo observer: Pid) async throws {
        var acknowledged = 0
        let agent = Agent<Int>(pid: counter)
        while try await receive(after: 0, { (m: Atom) in m == "stop" ? m : nil }) == nil {
            do {
                try await agent.update(timeout: 10_000) { $0 += 1 }
            } catch {
                send(observer, ClientReport(acknowledged: acknowledged, lost: true))
                return
            }
            acknowledged += 1
        }
        send(observer, ClientReport(acknowledged: acknowledged, lost: false))
    }

    @Test("after seconds of random kills the tree is whole, only killed workers were replaced, and the counter kept every acknowledged increment")
    func chaos() async throws {
        try await withProcess {
            let me = try Pid.current
            let root = try await Supervisor.startLink(
                children: [Self.counter] + (0..<Self.mids).map(Self.mid), strategy: .oneForOne)
            let top = try await Supervisor.whichChildren(root)
            let counter = try #require(top.first?.pid)
            let mids = top.dropFirst().compactMap(\.pid)
            try #require(mids.count == Self.mids)
            var before: [String: Pid] = [:]
            for mid in mids {
                for child in try await Supervisor.whichChildren(mid) { before[child.id] = child.pid }
            }
            try #require(before.count == Self.mids * Self.workersPerMid)

            let client = spawn { try await Self.incrementUntilStopped(counter, reportTo: me) }
            let deadline = ContinuousClock.now + Self.chaos
            spawn { send(me, Killed(pids: try await Self.killRandomWorkers(under: mids, until: deadline))) }
            let killed = try #require(try await receive(Killed.self, after: 60_000)).pids
            send(client, Atom("stop"))
            let report = try #require(try await receive(ClientReport.self, after: 60_000))

            // Every exit signal the chaos sent is in its supervisor's mailbox
            // before these calls: they see the tree after all restarts.
            #expect(killed.count > 100)
            var replaced = 0
            for mid in mids {
                let children = try await Supervisor.whichChildren(mid)
                #expect(children.count == Self.workersPerMid)
                #expect(try await Supervisor.countChildren(mid) == .init(specs: 100, active: 100, supervisors: 0, workers: 100))
                for child in children {
                    let old = try #require(before[child.id])
                    let now = try #require(child.pid)
                    #expect(now.isAlive)
                    #expect(killed.contains(old) ? now != old : now == old, "\(child.id) was \(old), is \(now)")
                    if now != old { replaced += 1 }
                }
            }
            #expect(replaced > 0)
            #expect(try await Supervisor.whichChildren(root).map(\.pid) == top.map(\.pid))
            #expect(try await Supervisor.countChildren(root) == .init(specs: 11, active: 11, supervisors: 10, workers: 1))

            #expect(!report.lost)
            #expect(report.acknowledged > 0)
            #expect(try await Agent<Int>(pid: counter).get { $0 } == report.acknowledged)
        }
    }
}
