import Synchronization
import Testing

@testable import Ember

/// 10,000 processes exchange over a million messages while random ones are
/// killed: nothing between live processes is lost or reordered, every link
/// and monitor fires exactly once, and no process is left behind.
@Suite("Stress")
struct StressTests {
    struct Numbered: Sendable { let from: Pid; let sequence: Int }
    struct Peers: Sendable { let all: [Pid]; let partner: Pid?; let coordinator: Pid }
    struct Linked: Sendable {}
    struct Sent: Sendable { let from: Pid; let counts: [Pid: Int] }
    struct Received: Sendable {
        let from: Pid
        let counts: [Pid: Int]
        let violations: Int
        let exits: [Pid: [ExitReason]]
    }

    static let workers = 10_000
    static let messagesPerWorker = 115

    /// One worker: sends numbered messages to random peers, checks that each
    /// peer's numbers arrive consecutively, traps exits from its link partner.
    static func worker(coordinator: Pid) async throws {
        let me = try Pid.current
        try trapExits(true)
        let setup = try await receive(Peers.self)
        let peers = setup.all
        if let partner = setup.partner {
            try link(partner)
            send(setup.coordinator, Linked())
        }
        var rng = SystemRandomNumberGenerator()
        var sent: [Pid: Int] = [:]
        var received: [Pid: Int] = [:]
        var violations = 0
        var exits: [Pid: [ExitReason]] = [:]
        func take(_ message: any Sendable) {
            if let numbered = message as? Numbered {
                let expected = received[numbered.from, default: 0]
                if numbered.sequence != expected { violations += 1 }
                received[numbered.from] = numbered.sequence + 1
            } else if let exit = message as? ExitMessage {
                exits[exit.from, default: []].append(exit.reason)
            }
        }
        for _ in 0..<messagesPerWorker {
            let target = peers[Int.random(in: 0..<peers.count, using: &rng)]
            let sequence = sent[target, default: 0]
            send(target, Numbered(from: me, sequence: sequence))
            sent[target] = sequence + 1
            while let message = try await receive(after: 0, { (m: any Sendable) -> (any Sendable)? in
                m is Numbered || m is ExitMessage ? m : nil
            }) {
                take(message)
            }
        }
        send(coordinator, Sent(from: me, counts: sent))
        _ = try await receive { (m: Atom) in m == "finish" ? m : nil }
        // Every sender has finished sending: what they sent is here.
        for message in try flush() { take(message) }
        send(coordinator, Received(from: me, counts: received, violations: violations, exits: exits))
    }

    @Test("10,000 processes exchange over a million messages while random ones are killed")
    func stress() async throws {
        let (pids, killed) = try await withProcess { () -> ([Pid], Set<Pid>) in
            let me = try Pid.current
            var pids: [Pid] = []
            var refs: [Reference: Pid] = [:]
            for _ in 0..<Self.workers {
                let (pid, ref) = try spawnMonitor { try await Self.worker(coordinator: me) }
                pids.append(pid)
                refs[ref] = pid
            }
            // Link partners pairwise: worker 2k links to 2k+1 before any kill.
            for (index, pid) in pids.enumerated() {
                let partner = index % 2 == 0 ? pids[index + 1] : nil
                send(pid, Peers(all: pids, partner: partner, coordinator: me))
            }
            for _ in 0..<(Self.workers / 2) { _ = try await receive(Linked.self) }

            // Kill random workers while the traffic flows.
            var killed = Set<Pid>()
            var rng = SystemRandomNumberGenerator()
            while killed.count < Self.workers / 10 {
                let victim = pids[Int.random(in: 0..<pids.count, using: &rng)]
                if killed.insert(victim).inserted { victim.exit(.kill) }
                if killed.count % 50 == 0 { await yieldNow() }
            }

            // Wait for every worker to report its sends or die.
            var sent: [Pid: [Pid: Int]] = [:]
            var downs: [Reference: ExitReason] = [:]
            var pending = Set(pids)
            while !pending.isEmpty {
                let message = try await receive { (m: any Sendable) -> (any Sendable)? in m is Sent || m is DownMessage ? m : nil }
                if let report = message as? Sent {
                    sent[report.from] = report.counts
                    pending.remove(report.from)
                } else if let down = message as? DownMessage {
                    #expect(downs[down.ref] == nil, "a monitor fired twice")
                    downs[down.ref] = down.reason
                    pending.remove(down.pid)
                }
            }
            // No more kills: tell the survivors to finish.
            let survivors = pids.filter { !killed.contains($0) }
            for pid in survivors { send(pid, Atom("finish")) }
            var received: [Pid: Received] = [:]
            while received.count < survivors.count || downs.count < pids.count {
                let message = try await receive { (m: any Sendable) -> (any Sendable)? in m is Received || m is DownMessage ? m : nil }
                if let report = message as? Received {
                    received[report.from] = report
                } else if let down = message as? DownMessage {
                    #expect(downs[down.ref] == nil, "a monitor fired twice")
                    downs[down.ref] = down.reason
                }
            }

            // Every monitor fired once with the right reason.
            #expect(downs.count == pids.count)
            for (ref, reason) in downs {
                let pid = try #require(refs[ref])
                #expect(reason == (killed.contains(pid) ? .killed : .normal))
            }
            // Nothing lost or reordered between survivors.
            var total = 0
            for counts in sent.values { total += counts.values.reduce(0, +) }
            #expect(total >= 1_000_000)
            // Compare both ways, pair by pair, for survivors that reported.
            var mismatches = 0
            for (sender, counts) in sent where !killed.contains(sender) {
                for (receiver, count) in counts {
                    guard let report = received[receiver] else { continue }
                    if report.counts[sender, default: 0] != count { mismatches += 1 }
                }
            }
            for (receiver, report) in received {
                #expect(report.violations == 0)
                for (sender, count) in report.counts where !killed.contains(sender) {
                    if sent[sender]?[receiver, default: 0] != count { mismatches += 1 }
                }
            }
            #expect(mismatches == 0)
            // Every killed worker's link partner saw exactly one exit, with killed.
            for index in stride(from: 0, to: pids.count, by: 2) {
                for (victim, partner) in [(pids[index], pids[index + 1]), (pids[index + 1], pids[index])] {
                    guard killed.contains(victim), let report = received[partner] else { continue }
                    #expect(report.exits[victim] == [.killed])
                }
            }
            return (pids, killed)
        }
        #expect(killed.count == Self.workers / 10)
        #expect(pids.allSatisfy { !$0.isAlive })
        let live = Set(processes())
        #expect(pids.allSatisfy { !live.contains($0) })
    }
}
