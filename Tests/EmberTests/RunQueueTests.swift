import Synchronization
import Testing

@testable import Ember

@Suite("Run queue")
struct RunQueueTests {
    typealias Queue = RunQueue<String>

    static let interval = Int(Queue.deepestTurnInterval)

    /// Pops `count` jobs.
    static func pop(_ count: Int, from queue: inout Queue) -> [String?] {
        (0..<count).map { _ in queue.take() }
    }

    @Test("new processes take turns with the waiting jobs, which keep their order; each generation runs in spawn order")
    func order() {
        var queue = Queue()
        queue.append("w1")
        queue.appendNew("n1")
        queue.append("w2")
        queue.appendNew("n2")
        #expect(queue.count == 4)
        #expect(queue.take() == "n1")
        // n1 spawns: its children run before n2, which was spawned before them.
        queue.appendNew("n1.1")
        queue.appendNew("n1.2")
        #expect(Self.pop(6, from: &queue) == ["w1", "n1.1", "w2", "n1.2", "n2", nil])
        #expect(queue.isEmpty)
    }

    /// Runs `queue`, each process of the chain spawning the next (in a
    /// generation of its own, on top), until `target` comes up: the jobs
    /// taken before it, or nil if more than two intervals' worth were.
    static func jobsBefore(_ target: String, runningChainIn queue: inout Queue) -> Int? {
        var taken = 0
        while let job = queue.take(), job != target {
            taken += 1
            if taken >= 2 * interval { return nil }
            queue.appendNew("chain")
        }
        return taken
    }

    @Test(
        "a job beneath a chain of new processes, each spawning the next, gets its turn",
        arguments: zip(["a waiting job", "a new process spawned with the chain's first"], [1, interval - 1]))
    func jobNotStarvedByChain(_ target: String, jobsBefore expected: Int) throws {
        var queue = Queue()
        queue.appendNew("chain")
        // One generation with the chain's first: the chain runs first.
        if target.hasPrefix("a new") { queue.appendNew(target) } else { queue.append(target) }
        let taken = try #require(Self.jobsBefore(target, runningChainIn: &queue))
        #expect(taken == expected)
    }

    @Test("waiting jobs get every other turn and the deepest new process every 64th, behind a chain of new processes")
    func turns() {
        var queue = Queue()
        for index in 0..<4 { queue.append("w\(index)") }
        // One generation: the chain runs first, the deep ones wait beneath it.
        queue.appendNew("chain")
        for index in 0..<4 { queue.appendNew("deep\(index)") }
        var popped: [String] = []
        while popped.count < 2 * Self.interval, let job = queue.take() {
            popped.append(job)
            if job == "chain" { queue.appendNew("chain") }
        }
        #expect(Array(popped.prefix(8)) == ["chain", "w0", "chain", "w1", "chain", "w2", "chain", "w3"])
        #expect(popped[Self.interval - 1] == "deep3" && popped[2 * Self.interval - 1] == "deep2")
        #expect(popped.filter { $0 == "chain" }.count == 2 * Self.interval - 6)
    }

    @Test("a thief takes the older half of each kind of job: waiting jobs after its own, new processes on top")
    func takeHalf() {
        var victim = Queue()
        for index in 0..<3 { victim.append("w\(index)") }
        for index in 0..<4 { victim.appendNew("n\(index)") }
        var half = victim.takeHalf()
        #expect(half.count == 4)
        #expect(victim.count == 3)
        var thief = Queue()
        thief.append("own-w")
        thief.appendNew("own-n")
        thief.append(contentsOf: half)
        #expect(Self.pop(6, from: &thief) == ["n2", "own-w", "n3", "w0", "own-n", "w1"])
        #expect(Self.pop(4, from: &victim) == ["n0", "w2", "n1", nil])
        #expect(half.take() == "n2")
    }

    @Test("a steal moves half the jobs, rounded up, and loses none")
    func stealKeepsEveryJob() {
        var victim = Queue()
        victim.append("w")
        victim.appendNew("n")
        var stolen = victim.takeHalf()
        #expect(stolen.count == 1 && victim.count == 1)
        var thief = Queue()
        thief.append(contentsOf: stolen)
        var seen = [thief.take(), victim.take(), stolen.take()].compactMap { $0 }
        #expect(Set(seen.prefix(2)) == ["w", "n"])
        seen.removeAll()
        for index in 0..<10 { victim.append("w\(index)") }
        for index in 0..<7 { victim.appendNew("n\(index)") }
        stolen = victim.takeHalf()
        #expect(stolen.count == 9 && victim.count == 8)
        thief = Queue()
        thief.append(contentsOf: stolen)
        while let job = thief.take() { seen.append(job) }
        while let job = victim.take() { seen.append(job) }
        #expect(seen.count == 17 && Set(seen).count == 17)
    }

    @Test("a tree of processes, each waiting for its children's answers, runs depth first")
    func treeRunsDepthFirst() async throws {
        // Oldest first, all 11,111 processes of this tree would be spawned
        // before the first leaf runs.
        final class Census: Sendable {
            let live = Atomic<Int>(0)
            let peak = Atomic<Int>(0)

            func enter() {
                let now = live.add(1, ordering: .relaxed).newValue
                var seen = peak.load(ordering: .relaxed)
                while now > seen {
                    let (exchanged, original) = peak.compareExchange(
                        expected: seen, desired: now, ordering: .relaxed)
                    if exchanged { break }
                    seen = original
                }
            }

            func leave() { live.subtract(1, ordering: .relaxed) }
        }
        // A process counts from its spawn to its end.
        @Sendable func node(_ census: Census, parent: Pid, size: Int) async throws {
            defer { census.leave() }
            guard size > 1 else {
                send(parent, 1)
                return
            }
            let me = try Pid.current
            for _ in 0..<10 {
                census.enter()
                spawn { try await node(census, parent: me, size: size / 10) }
            }
            var sum = 0
            for _ in 0..<10 { sum += try await receive(Int.self) }
            send(parent, sum)
        }
        let census = Census()
        let leaves = try await withProcess { () -> Int in
            let me = try Pid.current
            census.enter()
            spawn { try await node(census, parent: me, size: 10_000) }
            return try await receive(Int.self, after: 60_000) ?? -1
        }
        #expect(leaves == 10_000)
        let peak = census.peak.load(ordering: .relaxed)
        // Depth first it peaks at a few hundred, on any number of cores.
        #expect(peak < 5_000, "\(peak) of the tree's 11,111 processes were alive at once")
    }
}
