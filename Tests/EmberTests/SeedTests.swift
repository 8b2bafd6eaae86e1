import Testing

@testable import Ember

/// The seed document's examples, one test each, in the seed's order.
@Suite("The seed: spawn, send and receive, links")
struct SeedTests {
    @Test("spawn returns a pid at once and the process exits when its function is done")
    func spawnReturnsPid() async throws {
        let pid = spawn { _ = 1 + 2 }
        #expect(pid.description.hasPrefix("#PID<0."))
        #expect(await eventually { !pid.isAlive })
    }

    @Test("self() is the pid of the running process, and it is alive")
    func selfIsAlive() async throws {
        let (me, alive) = try await withProcess { () -> (Pid, Bool) in
            let me = try Pid.current
            return (me, me.isAlive)
        }
        #expect(alive)
        #expect(me.description.hasPrefix("#PID<0."))
    }

    @Test("a message sent to self is received by a matching pattern")
    func sendAndReceive() async throws {
        let result = try await withProcess { () -> String in
            let message = send(try Pid.current, (Atom("hello"), "world"))
            #expect(message == (Atom("hello"), "world"))
            return try await receive { (message: (Atom, String)) -> String? in
                switch message {
                case ("hello", let msg): msg
                case ("world", _): "won't match"
                default: nil
                }
            }
        }
        #expect(result == "world")
    }

    @Test("receive with after 1_000 gives up with the after value when nothing matches")
    func receiveAfter() async throws {
        let result = try await withProcess { () -> String in
            let start = ContinuousClock.now
            let text = try await receive(after: 1_000) { (message: (Atom, String)) -> String? in
                message.0 == "hello" ? message.1 : nil
            } ?? "nothing after 1s"
            #expect(ContinuousClock.now - start >= .milliseconds(1_000))
            return text
        }
        #expect(result == "nothing after 1s")
    }

    @Test("a spawned process can send its own pid back to its parent")
    func helloFromChild() async throws {
        let (text, child) = try await withProcess { () -> (String, Pid) in
            let parent = try Pid.current
            let child = spawn { send(parent, (Atom("hello"), try Pid.current)) }
            let text = try await receive { (message: (Atom, Pid)) -> String? in
                switch message {
                case ("hello", let pid): "Got hello from \(inspect(pid))"
                default: nil
                }
            }
            return (text, child)
        }
        #expect(text == "Got hello from \(child)")
    }

    @Test("flush returns every waiting message and empties the mailbox")
    func flushMailbox() async throws {
        let (flushed, after) = try await withProcess { () -> ([String], Int) in
            send(try Pid.current, Atom("hello"))
            let flushed = try flush().map(inspect)
            return (flushed, try flush().count)
        }
        #expect(flushed == [":hello"])
        #expect(after == 0)
    }

    @Test("a crashing process logs an error report and its parent keeps running")
    func crashIsIsolated() async throws {
        let logs = CapturedLogs.shared
        let (child, parentAlive) = try await withProcess { () -> (Pid, Bool) in
            let (child, ref) = try spawnMonitor { throw RuntimeError("oops") }
            let down = try await down(ref)
            #expect(down?.reason == .error(RuntimeError("oops")))
            return (child, try Pid.current.isAlive)
        }
        #expect(parentAlive)
        #expect(await eventually { !logs.messages(for: child).isEmpty })
        let report = try #require(logs.messages(for: child).first)
        #expect(report.hasPrefix("Process \(child) raised an exception\n** (RuntimeError) oops"))
    }

    @Test("spawnLink propagates a crash: the linked parent exits with the same reason")
    func spawnLinkPropagates() async throws {
        let logs = CapturedLogs.shared
        let children = Mutex<[Pid]>([])
        await #expect(throws: ExitReason.error(RuntimeError("oops"))) {
            try await withProcess {
                let child = try spawnLink { throw RuntimeError("oops") }
                children.withLock { $0.append(child) }
                // The shell idles; the exit signal takes it down while it waits.
                _ = try await receive(Never.self, after: 10_000)
                Issue.record("the parent outlived its linked child's crash")
            }
        }
        let child = try #require(children.withLock { $0.first })
        #expect(await eventually { !logs.messages(for: child).isEmpty })
    }
}

import Synchronization
