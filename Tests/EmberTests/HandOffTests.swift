import Synchronization
import Testing

@testable import Ember

/// A process that waits for a message with no timeout may run the process it
/// just woke in its place, without suspending (see `Worker.handOff()`). These
/// specify what must not change when it does.
@Suite("Hand-off")
struct HandOffTests {
    enum Label {
        @TaskLocal static var value = "none"
    }

    struct Request: Sendable { let from: Pid }
    /// What the answering process saw: itself, its task-local value and the
    /// state of the process that asked.
    struct Answer: Sendable, Equatable {
        let me: Pid
        let label: String
        let askerRunning: Bool
    }

    /// Sends a request and waits for the answer while isolated to an actor.
    actor Asker {
        func ask(_ answerer: Pid) async throws -> Bool {
            send(answerer, Request(from: try Pid.current))
            return try await receive(Bool.self)
        }
    }

    @Test("a receive on an actor that must wait does not run the process it woke in its place")
    func noHandOffOnAnActor() async throws {
        let asker = Asker()
        let handOffs = try await withProcess { () -> Int in
            let answerer = spawn {
                while true {
                    let request = try await receive(Request.self)
                    // True if it runs beneath the asker's receive: this worker
                    // is then in a hand-off and the asker still running. Either
                    // alone would not tell: another test's process may run
                    // the asker's wake-up beneath its own receive, and an
                    // asker whose slice is spent yields before it looks.
                    let handingOff = Worker.withCurrent { $0.isHandingOff } ?? false
                    send(request.from, handingOff && request.from.info()?.status == .running)
                }
            }
            defer { answerer.exit(.kill) }
            #expect(await eventually { answerer.info()?.status == .waiting })
            var handOffs = 0
            for _ in 0..<200 where try await asker.ask(answerer) { handOffs += 1 }
            return handOffs
        }
        #expect(handOffs == 0)
    }

    @Test("a process that ran another in its place is still itself afterwards, task locals included")
    func identityKept() async throws {
        let handOffs = try await withProcess { () -> Int in
            let me = try Pid.current
            let answerer = spawn {
                try await Label.$value.withValue("answerer") {
                    while true {
                        let request = try await receive(Request.self)
                        send(request.from, Answer(
                            me: try Pid.current, label: Label.value,
                            askerRunning: request.from.info()?.status == .running))
                    }
                }
            }
            defer { answerer.exit(.kill) }
            return try await Label.$value.withValue("asker") {
                var handOffs = 0
                for _ in 0..<200 {
                    send(answerer, Request(from: me))
                    let answer = try await receive(Answer.self)
                    #expect(answer.me == answerer)
                    #expect(answer.label == "answerer")
                    #expect(try Pid.current == me)
                    #expect(Label.value == "asker")
                    // Either side may be the one that hands off: the one
                    // that runs in its place sees it running, not waiting.
                    if answer.askerRunning || answerer.info()?.status == .running { handOffs += 1 }
                }
                return handOffs
            }
        }
        // Not every time (the streak limit, and other tests' processes share
        // the workers), but some of 200 times.
        #expect(handOffs > 0)
    }

    @Test("a process killed while the process it woke runs in its place unwinds, and does not take a reply already there")
    func killedDuringHandOff() async throws {
        let wentOn = Mutex(false)
        try await withProcess {
            let me = try Pid.current
            let answerer = spawn {
                send(me, Atom("ready"))
                let request = try await receive(Request.self)
                send(request.from, "reply")
                request.from.exit(.kill)
            }
            _ = try await receive { (m: Atom) in m == "ready" ? m : nil }
            let (asker, ref) = try spawnMonitor {
                send(answerer, Request(from: try Pid.current))
                _ = try await receive(String.self)
                wentOn.withLock { $0 = true }
            }
            let down = try #require(try await down(ref))
            #expect(down.pid == asker)
            #expect(down.reason == .killed)
            #expect(!wentOn.withLock { $0 }, "the killed asker ran on past its receive")
        }
    }

    @Test("a receive with a timeout times out while the process it woke runs long")
    func timeoutNotHandedOff() async throws {
        try await withProcess {
            let me = try Pid.current
            let busy = spawn {
                _ = try await receive(Request.self)
                // Busy for a bounded while without a suspension point.
                let until = ContinuousClock.now + .milliseconds(300)
                while ContinuousClock.now < until {}
                send(me, "late")
            }
            send(busy, Request(from: me))
            #expect(try await receive(String.self, after: 50) == nil)
            #expect(try await receive(String.self) == "late")
        }
    }

    @Test("a hand-off runs only a process's job: a plain task a process wakes runs on its own")
    func onlyProcessesHandedOff() async throws {
        final class Seen: Sendable { let insideHandOff = Mutex<[Bool]>([]) }
        let started = SchedulerTests.Signal(), woken = SchedulerTests.Signal(), seen = Seen()
        try await withProcess {
            let me = try Pid.current
            for _ in 0..<50 {
                let plain = Swift.Task {
                    started.signal()
                    await woken.wait()
                    let inside = Worker.withCurrent { $0.isHandingOff } ?? false
                    seen.insideHandOff.withLock { $0.append(inside) }
                    send(me, "done")
                }
                await started.wait()
                woken.signal()  // on this worker: the plain task's job goes to its next slot
                _ = try await receive(String.self)  // no timeout: this receive may hand off
                _ = await plain.value
            }
        }
        let inside = seen.insideHandOff.withLock { $0 }
        #expect(inside.count == 50)
        #expect(!inside.contains(true))
    }

    @Test("a server runs the caller it answered in its place, and the callers go on as themselves")
    func serverHandsOffToCaller() async throws {
        let observer = idleProcess()
        let server = try await Probe.start(.init(observer: observer))
        defer { server.exit(.kill); observer.exit(.kill) }
        final class Count: Sendable { let handOffs = Mutex(0) }
        let count = Count()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for caller in 0..<2 {
                group.addTask {
                    try await withProcess {
                        let me = try Pid.current
                        try await Label.$value.withValue("caller \(caller)") {
                            for _ in 0..<200 {
                                let value = try await Probe.call(server, .get)
                                let current = try Pid.current
                                #expect(value == 0 && current == me)
                                #expect(Label.value == "caller \(caller)")
                                // Inside a hand-off: the server, waiting for its
                                // next request, runs this caller in its place.
                                if Worker.withCurrent({ $0.isHandingOff }) == true { count.handOffs.withLock { $0 += 1 } }
                            }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        // Not every time (the streak limit, the other caller), but some of 400.
        #expect(count.handOffs.withLock { $0 } > 0)
    }

    @Test("a server waiting with a timeout of its own does not run its caller in its place: it waits dormant, and its timeout fires")
    func timedServerDoesNotHandOff() async throws {
        let (statuses, fired) = try await withProcess { () -> ([Pid.Status?], Int) in
            let server = try await Probe.start(.init(observer: try Pid.current))
            defer { server.exit(.kill) }
            var statuses: [Pid.Status?] = []
            var fired = 0
            for _ in 0..<3 {
                _ = try await Probe.call(server, .timed(2_000))  // replies, then waits 2 s
                // Run in its place, the caller would find the server running
                // beneath it (and its timeout could not fire until the caller
                // suspends); gone dormant, it is waiting.
                statuses.append(server.info()?.status)
                Probe.cast(server, 0)  // disarms the timeout
            }
            _ = try await Probe.call(server, .timed(20))
            if try await receive(Probe.Event.self, after: 10_000) == .timeout { fired += 1 }
            return (statuses, fired)
        }
        #expect(statuses == [.waiting, .waiting, .waiting])
        #expect(fired == 1)
    }
}
