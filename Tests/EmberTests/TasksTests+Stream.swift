import Synchronization
import Testing

@testable import Ember

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
