import Testing

@testable import Ember

@Suite("sendAfter and cancelTimer")
struct SendAfterTests {
    @Test("sendAfter delivers its message once the time has passed")
    func delivers() async throws {
        let got = try await withProcess { () -> Atom? in
            sendAfter(try Pid.current, Atom("tick"), milliseconds: 1)
            return try await receive(after: .milliseconds(10_000)) { (m: Atom) in m }
        }
        #expect(got == "tick")
    }

    @Test("a cancelled timer's message is never delivered")
    func cancelled() async throws {
        let first = try await withProcess { () -> Atom in
            let me = try Pid.current
            cancelTimer(sendAfter(me, Atom("cancelled"), milliseconds: 20))
            sendAfter(me, Atom("later"), milliseconds: 200)
            return try await receive(Atom.self)
        }
        #expect(first == "later")
    }

    @Test("a cancel wins over a timer the timer thread found due just before it")
    func cancelWinsOverLateFire() async throws {
        let first = try await withProcess { () -> Atom in
            let me = try Pid.current
            let timer = sendAfter(me, Atom("late"), milliseconds: 60_000)
            #expect(timer.delivery.isTimerPending(token: 0))
            cancelTimer(timer)
            // As if the timer thread had found it pending and fired it after the cancel.
            timer.delivery.timerFired(token: 0)
            send(me, Atom("marker"))
            return try await receive(Atom.self)
        }
        #expect(first == "marker")
    }
}
