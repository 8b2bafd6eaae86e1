import Synchronization
import Testing

@testable import Ember

@Suite("Receive")
struct ReceiveTests {
    enum Greeting: Sendable, Equatable {
        case hello(String)
        case bye
    }

    @Test("receive picks by type and value and leaves unmatched messages in order")
    func selective() async throws {
        let (picked, rest) = try await withProcess { () -> (String, [String]) in
            let me = try Pid.current
            send(me, 1)
            send(me, Greeting.bye)
            send(me, (Atom("hello"), "skip"))
            send(me, Greeting.hello("you"))
            send(me, "text")
            let picked = try await receive { (g: Greeting) -> String? in
                if case .hello(let name) = g { return name }
                return nil
            }
            return (picked, try flush().map(inspect))
        }
        #expect(picked == "you")
        #expect(rest == ["1", ":bye", "{:hello, \"skip\"}", "\"text\""])
    }

    @Test("a receive offers each message to its matcher once, also when it goes on to wait")
    func matcherSeesEachMessageOnce() async throws {
        let (offered, rest) = try await withProcess { () -> ([Int: Int], [String]) in
            let me = try Pid.current
            for n in 1...3 { send(me, n) }
            // Sends 9 once told to: by then the receive below has looked at
            // 1, 2 and 3, and (most likely) waits.
            let late = spawn {
                _ = try await receive(Atom.self)
                send(me, 9)
            }
            send(late, Atom("go"))
            var offered: [Int: Int] = [:]
            let nine = try await receive { (n: Int) -> Int? in
                offered[n, default: 0] += 1
                return n == 9 ? n : nil
            }
            #expect(nine == 9)
            return (offered, try flush().map(inspect))
        }
        #expect(offered == [1: 1, 2: 1, 3: 1, 9: 1])
        #expect(rest == ["1", "2", "3"])
    }

    @Test("flush and demonitor(flush:) from a receive's matcher fail with a typed error and take nothing")
    func mailboxUntouchedFromMatcher() async throws {
        let (errors, received, rest) = try await withProcess { () -> ([ProcessError], Int, [String]) in
            let me = try Pid.current
            let watched = try monitor(spawn {})
            _ = try await down(watched)
            for n in 1...3 { send(me, n) }
            var errors: [ProcessError] = []
            let received = try await receive { (n: Int) -> Int? in
                do throws(ProcessError) { _ = try flush() } catch { errors.append(error) }
                do throws(ProcessError) { _ = try demonitor(watched, flush: true) } catch { errors.append(error) }
                return n == 2 ? n : nil
            }
            return (errors, received, try flush().map(inspect))
        }
        #expect(received == 2)
        // Both calls failed at each of the two messages offered (1, then 2).
        #expect(errors == Array(repeating: [ProcessError.insideMatcher("flush"), .insideMatcher("demonitor")], count: 2).flatMap { $0 })
        #expect(rest == ["1", "3"])
    }

    @Test("a message sent as an existential is received by its own type, and one sent as its type by a protocol")
    func existentialMessages() async throws {
        let (greeting, described, waited) = try await withProcess { () -> (Greeting, String, Int) in
            let me = try Pid.current
            let erased: any Sendable = Greeting.hello("boxed")
            send(me, erased)
            send(me, Atom("plain"))
            let greeting = try await receive(Greeting.self)
            let described = try await receive { (m: any CustomStringConvertible) in m.description }
            // The same, handed to a receiver already waiting.
            let child = spawn {
                let number = try await receive(Int.self)
                let parent = try await receive(Pid.self)
                send(parent, number)
            }
            send(child, 7 as any Sendable)
            send(child, me)
            return (greeting, described, try await receive(Int.self))
        }
        #expect(greeting == .hello("boxed"))
        #expect(described == ":plain")
        #expect(waited == 7)
    }

    @Test("several shapes can be matched at once with any Sendable")
    func severalShapes() async throws {
        let results = try await withProcess { () -> [String] in
            let me = try Pid.current
            send(me, (Atom("hello"), 42))
            send(me, Greeting.hello("there"))
            var results: [String] = []
            for _ in 0..<2 {
                results.append(try await receive { (m: any Sendable) -> String? in
                    switch m {
                    case let (tag, n) as (Atom, Int) where tag == "hello": "int \(n)"
                    case let .hello(text) as Greeting: text
                    default: nil
                    }
                })
            }
            return results
        }
        #expect(results == ["int 42", "there"])
    }

    @Test("after 0 returns nil at once on an empty mailbox, and a waiting match if there is one")
    func afterZero() async throws {
        try await withProcess {
            #expect(try await receive(Int.self, after: 0) == nil)
            send(try Pid.current, 7)
            #expect(try await receive(Int.self, after: 0) == 7)
        }
    }

    @Test("after infinity waits until a message comes")
    func afterInfinity() async throws {
        let value = try await withProcess { () -> Int? in
            let me = try Pid.current
            spawn {
                _ = try await receive(Never.self, after: 20)
                send(me, 5)
            }
            return try await receive(Int.self, after: .infinity)
        }
        #expect(value == 5)
    }

    @Test("short timeouts fire, not early, while other processes keep the schedulers busy")
    func timeoutsUnderLoad() async throws {
        let stop = Atomic<Bool>(false)
        let busy = (0..<4).map { _ in
            spawn {
                while !stop.load(ordering: .relaxed) {
                    for _ in 0..<1_000 { _ = send(Pid.external, 0) }
                    await yieldNow()
                }
            }
        }
        let elapsed = try await withProcess { () -> [Duration] in
            let me = try Pid.current
            for _ in 0..<100 {
                spawn {
                    let start = ContinuousClock.now
                    let got = try await receive(Int.self, after: 20)
                    send(me, (got == nil, ContinuousClock.now - start))
                }
            }
            var elapsed: [Duration] = []
            for _ in 0..<100 {
                let (timedOut, duration) = try await receive((Bool, Duration).self)
                #expect(timedOut)
                elapsed.append(duration)
            }
            return elapsed
        }
        stop.store(true, ordering: .relaxed)
        #expect(elapsed.allSatisfy { $0 >= .milliseconds(20) })
        #expect(elapsed.allSatisfy { $0 < .seconds(10) })
        _ = busy
    }

    @Test("a message arriving just before the deadline is received, or stays in the mailbox if the timeout won")
    func raceAtDeadline() async throws {
        var received = 0
        for round in 0..<200 {
            let outcome = try await withProcess { () -> String in
                let me = try Pid.current
                spawn {
                    _ = try await receive(Never.self, after: 2)
                    send(me, round)
                }
                if try await receive(Int.self, after: 2) == round { return "received" }
                // The timeout won: the message must still arrive and wait in the mailbox.
                return try await receive(Int.self, after: 10_000) == round ? "kept" : "lost"
            }
            #expect(outcome != "lost")
            if outcome == "received" { received += 1 }
        }
        _ = received
    }

    @Test("a message handed to a waiting receiver whose matcher throws stays in the mailbox, behind older ones")
    func throwingMatcherKeepsMessage() async throws {
        struct Refused: Error {}
        let left = try await withProcess { () -> [String] in
            let me = try Pid.current
            send(me, 1)
            let sender = spawn {
                #expect(await eventually { me.info()?.status == .waiting })
                send(me, "refused")
            }
            await #expect(throws: Refused.self) {
                // With a timeout, so the receiver is waiting when the message comes.
                _ = try await receive(after: 10_000) { (_: String) -> String? in throw Refused() }
            }
            _ = sender
            return try flush().map(inspect)
        }
        #expect(left == ["1", "\"refused\""])
    }

    @Test("the timeout of a receive that ended by a throw does not end the next receive")
    func thrownReceiveDisarmsItsTimeout() async throws {
        struct Refused: Error {}
        let got = try await withProcess { () -> String? in
            let me = try Pid.current
            spawn {
                #expect(await eventually { me.info()?.status == .waiting })
                send(me, 1)
            }
            // It waits (its timer armed: long enough that the 1 comes first,
            // even on a loaded machine), is woken by the 1, and throws.
            await #expect(throws: Refused.self) {
                _ = try await receive(after: 2_000) { (_: Int) -> Int? in throw Refused() }
            }
            // Sent past the first deadline: had that timer stayed armed, the
            // receive below would have waited on it and ended empty.
            _ = sendAfter(me, "late", milliseconds: 2_500)
            return try await receive(String.self, after: 10_000)
        }
        #expect(got == "late")
    }

    @Test("a timeout with only non-matching arrivals still fires and keeps them")
    func timeoutKeepsOthers() async throws {
        let rest = try await withProcess { () -> [String] in
            let me = try Pid.current
            spawn {
                for i in 0..<5 {
                    send(me, "noise \(i)")
                    _ = try await receive(Never.self, after: 1)
                }
            }
            #expect(try await receive(Int.self, after: 50) == nil)
            _ = try await receive(after: 5_000) { (s: String) in s == "noise 4" ? s : nil }
            return try flush().map { $0 as! String }
        }
        #expect(rest == ["noise 0", "noise 1", "noise 2", "noise 3"])
    }

    @Test("order from one sender to one receiver is preserved")
    func ordering() async throws {
        let received = try await withProcess { () -> [Int] in
            let me = try Pid.current
            for sender in 0..<4 {
                spawn { for i in 0..<10_000 { send(me, (sender, i)) } }
            }
            var next = [0, 0, 0, 0]
            for _ in 0..<40_000 {
                let (sender, i) = try await receive((Int, Int).self)
                #expect(i == next[sender])
                next[sender] = i + 1
            }
            return next
        }
        #expect(received == [10_000, 10_000, 10_000, 10_000])
    }
}

@Suite("Process state machine")
struct ProcessStateTests {
    typealias State = ProcessState<Int>
    let me = Pid(node: 0, id: 1, serial: 0, creation: 0)
    let peer = Pid(node: 0, id: 2, serial: 0, creation: 0)

    @Test("a message sent to a waiting receiver is handed to it; later ones are queued")
    func deliverHandsOver() {
        var state = State()
        guard case .waiting = state.wait(1, token: 0) else {
            Issue.record("an empty mailbox refused a waiter")
            return
        }
        let first = state.deliver("a")
        #expect(first.handedTo == 1)
        #expect(state.incomingCount == 0)
        let second = state.deliver("b")
        #expect(second.isQueued)
        #expect(state.incomingCount == 1)
    }

    @Test("a waiter gets the arrived messages instead of waiting, and is not kept after its timeout fired")
    func waitRefused() {
        var state = State()
        _ = state.deliver("a")
        guard case .arrived(let messages, let more) = state.wait(1, token: 0) else {
            Issue.record("a waiter was kept while messages were waiting")
            return
        }
        #expect(messages.count == 1)
        #expect(!more)
        #expect(state.incomingCount == 0)
        _ = state.timerFired(token: 9)
        guard case .timedOut = state.wait(1, token: 9) else {
            Issue.record("a waiter was kept after its timeout fired")
            return
        }
        guard case .waiting = state.wait(1, token: 10) else {
            Issue.record("a new receive could not wait")
            return
        }
    }

    @Test("exit hands over the waiter and relations once, and a dead process drops messages")
    func exitOnce() {
        var state = State()
        _ = state.addLink(peer)
        _ = state.addMonitor(Reference(value: 1), by: peer)
        _ = state.wait(3, token: 0)
        let departure = state.exit("boom")
        #expect(departure?.waiter == 3)
        #expect(departure?.links == [peer])
        #expect(departure?.monitoredBy.count == 1)
        let r7 = state.exit("again")
        #expect(r7 == nil)
        let r8 = state.deliver("late")
        #expect(r8.isDropped)
        #expect(state.incomingCount == 0)
        let r9 = state.addLink(peer)
        #expect(!r9)
    }

    @Test("a DOWN for a monitor already removed is dropped")
    func staleDown() {
        var state = State()
        let ref = Reference(value: 5)
        state.startMonitoring(peer, ref: ref)
        let r10 = state.stopMonitoring(ref)
        #expect(r10 == peer)
        let r11 = state.deliverDown(DownMessage(ref: ref, pid: peer, reason: .normal))
        #expect(r11.isDropped)
        #expect(state.incomingCount == 0)
    }

    final class Handler: MessageHandler {
        func handle(_ envelope: Envelope) async throws {}
    }

    @Test("a dormant process is woken by its next message, once, and refuses dormancy while messages wait")
    func dormancy() {
        var state = State()
        let handler = Handler()
        let slept = state.becomeDormant(handler)
        #expect(slept)
        #expect(state.isWaiting)
        guard case .wake(let woken, let generation) = state.deliver("a") else {
            Issue.record("a message did not wake a dormant process")
            return
        }
        #expect(woken === handler)
        #expect(generation == 2)
        let again = state.deliver("b")
        #expect(again.isQueued)
        let refused = state.becomeDormant(handler)
        #expect(!refused)
    }

    @Test("exit(pid, kill) turns into killed even when trapping; a link kill stays kill")
    func killRules() {
        var trapping = State()
        trapping.trapsExits = true
        guard case .exited(let departure) = trapping.receiveExitSignal(from: peer, reason: .kill, kind: .exit, me: me) else {
            Issue.record("kill was trapped")
            return
        }
        #expect(departure.reason == .killed)
        var linked = State()
        _ = linked.addLink(peer)
        guard case .exited(let linkDeparture) = linked.receiveExitSignal(from: peer, reason: .kill, kind: .link, me: me) else {
            Issue.record("a link kill was ignored")
            return
        }
        #expect(linkDeparture.reason == .kill)
    }
}

extension ProcessState.Delivery {
    var handedTo: Waiter? {
        if case .handed(let waiter, _) = self { return waiter }
        return nil
    }
    var isQueued: Bool {
        if case .queued = self { return true }
        return false
    }
    var isDropped: Bool {
        if case .dropped = self { return true }
        return false
    }
}
