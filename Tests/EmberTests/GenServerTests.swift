import Synchronization
import Testing

@testable import Ember

/// A server that exercises every callback; it reports what happens to `observer`.
struct Probe: GenServer {
    struct Setup: Sendable {
        var observer: Pid
        var start: Start = .ok
        var trapsExits = false
    }

    enum Start: Sendable { case ok, ignore, stop, timeout, `continue`, throwing }

    enum Request: Sendable {
        case get
        case put(Int)
        case later
        case pending
        case stop(ExitReason)
        case slow(Int)
        /// Replies, asking for a timeout of this many milliseconds.
        case timed(Int)
        case crash
    }

    enum Event: Sendable, Equatable {
        case continued(String)
        case timeout
        case info(String)
        case terminated(ExitReason)
    }

    typealias Reply = Int
    typealias Cast = Int
    typealias Continue = String

    var observer: Pid
    var value = 0
    var pending: From?

    static func initialize(_ setup: Setup) async throws -> InitResult<Probe> {
        if setup.trapsExits { try trapExits(true) }
        let probe = Probe(observer: setup.observer)
        switch setup.start {
        case .ok: return .ok(probe)
        case .ignore: return .ignore
        case .stop: return .stop("bad_start")
        case .timeout: return .ok(probe, timeout: 20)
        case .continue: return .ok(probe, continue: "from init")
        case .throwing: throw RuntimeError("init failed")
        }
    }

    mutating func handleCall(_ request: Request, from: From) async throws -> CallResult<Probe> {
        switch request {
        case .get: return .reply(value)
        case .put(let new): value = new; return .reply(value, continue: "after put")
        case .later: pending = from; return .noReply
        case .pending: return .reply(pending == nil ? 0 : 1)
        case .stop(let reason): return .stop(reason, reply: value)
        case .slow(let ms): _ = try await receive(Never.self, after: .milliseconds(ms)); return .reply(value)
        case .timed(let ms): return .reply(value, timeout: ms)
        case .crash: throw RuntimeError("crash in call")
        }
    }

    mutating func handleCast(_ n: Int) async throws -> HandleResult<Probe> {
        value += n
        if let pending {
            Probe.reply(pending, value)
            self.pending = nil
        }
        return .noReply
    }

    mutating func handleInfo(_ message: any Sendable) async throws -> HandleResult<Probe> {
        if let atom = message as? Atom, atom == "timeout" {
            send(observer, Event.timeout)
        } else {
            send(observer, Event.info(inspect(message)))
        }
        return .noReply
    }

    mutating func handleContinue(_ continuation: String) async throws -> HandleResult<Probe> {
        send(observer, Event.continued(continuation))
        return .noReply
    }

    mutating func terminate(_ reason: ExitReason) async {
        send(observer, Event.terminated(reason))
    }
}

@Suite("GenServer")
struct GenServerTests {
    func event() async throws -> Probe.Event? { try await receive(Probe.Event.self, after: 10_000) }

    @Test("init ok: start returns once initialize has run, and calls get replies")
    func initOk() async throws {
        try await withProcess {
            let server = try await Probe.startLink(.init(observer: try Pid.current))
            #expect(try await Probe.call(server, .get) == 0)
            #expect(try await Probe.call(server, .put(5)) == 5)
            #expect(try await event() == .continued("after put"))
        }
    }

    @Test("init ignore: start throws ignored and the process exits normal")
    func initIgnore() async throws {
        try await withProcess {
            await #expect(throws: StartError.ignored) { try await Probe.start(.init(observer: try Pid.current, start: .ignore)) }
        }
    }

    @Test("init stop: start throws failed with the reason; a linked caller trapping exits gets the exit")
    func initStop() async throws {
        try await withProcess {
            try trapExits(true)
            await #expect(throws: StartError.failed("bad_start")) {
                try await Probe.startLink(.init(observer: try Pid.current, start: .stop))
            }
            let exit = try await receive(ExitMessage.self, after: 10_000)
            #expect(exit?.reason == "bad_start")
        }
    }

    @Test("init that throws fails the start with the error as reason")
    func initThrows() async throws {
        try await withProcess {
            await #expect(throws: StartError.failed(.error(RuntimeError("init failed")))) {
                try await Probe.start(.init(observer: try Pid.current, start: .throwing))
            }
        }
    }

    @Test("init continue runs handleContinue before any message")
    func initContinue() async throws {
        try await withProcess {
            _ = try await Probe.startLink(.init(observer: try Pid.current, start: .continue))
            #expect(try await event() == .continued("from init"))
        }
    }

    @Test("init timeout: handleInfo gets :timeout when no message comes in time")
    func initTimeout() async throws {
        try await withProcess {
            _ = try await Probe.startLink(.init(observer: try Pid.current, start: .timeout))
            #expect(try await event() == .timeout)
        }
    }

    @Test("a call times out after its timeout and the caller can go on; the late reply is dropped")
    func callTimeout() async throws {
        try await withProcess {
            let server = try await Probe.startLink(.init(observer: try Pid.current))
            await #expect(throws: CallError.timeout) { try await Probe.call(server, .slow(300), timeout: 20) }
            // Behind the slow request: a generous timeout, not the default 5 s.
            #expect(try await Probe.call(server, .get, timeout: 60_000) == 0)
            #expect(try flush().isEmpty)
        }
    }

    @Test("an uncaught call timeout ends the caller with the call error")
    func callTimeoutEndsCaller() async throws {
        try await withProcess {
            let server = try await Probe.start(.init(observer: try Pid.current))
            let (_, ref) = try spawnMonitor { _ = try await Probe.call(server, .slow(300), timeout: 20) }
            #expect(try await down(ref)?.reason == .error(CallError.timeout))
        }
    }

    @Test("calling a dead server fails with noproc; a server that dies during the call gives its reason")
    func callFailures() async throws {
        try await withProcess {
            let server = try await Probe.start(.init(observer: try Pid.current))
            await #expect(throws: CallError.exited(.error(RuntimeError("crash in call")))) { try await Probe.call(server, .crash) }
            await #expect(throws: CallError.noproc) { try await Probe.call(server, .get) }
            await #expect(throws: CallError.noproc) { try await Probe.call("genserver_nobody", .get) }
        }
    }

    @Test("the default call timeout is 5 seconds")
    func defaultTimeout() async throws {
        try await withProcess {
            let server = try await Probe.start(.init(observer: try Pid.current))
            let start = ContinuousClock.now
            await #expect(throws: CallError.timeout) { try await Probe.call(server, .later) }
            #expect(ContinuousClock.now - start >= .seconds(5))
        }
    }

    @Test("cast does not wait; a deferred reply is sent later with reply(from, value)")
    func castAndDeferredReply() async throws {
        try await withProcess {
            let server = try await Probe.startLink(.init(observer: try Pid.current))
            let me = try Pid.current
            spawn {
                // Not the default 5 s: the test is about the deferred reply,
                // which a heavily loaded machine may take longer to bring.
                let value = try await Probe.call(server, .later, timeout: 60_000)
                send(me, (Atom("deferred"), value))
            }
            // Wait until the server holds the deferred call.
            while try await Probe.call(server, .pending) == 0 { _ = try await receive(Never.self, after: 1) }
            Probe.cast(server, 7)
            let reply = try await receive(after: 60_000) { (m: (Atom, Int)) in m.0 == "deferred" ? m.1 : nil }
            #expect(reply == 7)
        }
    }

    @Test("other messages go to handleInfo")
    func info() async throws {
        try await withProcess {
            let server = try await Probe.startLink(.init(observer: try Pid.current))
            send(server, (Atom("hi"), 1))
            #expect(try await event() == .info("{:hi, 1}"))
        }
    }

    @Test("a stop result runs terminate, replies, and exits with the reason")
    func stopFromCall() async throws {
        try await withProcess {
            let server = try await Probe.start(.init(observer: try Pid.current))
            let ref = try monitor(server)
            #expect(try await Probe.call(server, .stop(.shutdown)) == 0)
            #expect(try await event() == .terminated(.shutdown))
            #expect(try await down(ref)?.reason == .shutdown)
        }
    }

    @Test("stop(server) runs terminate and returns after the server exited")
    func stopFromClient() async throws {
        try await withProcess {
            let server = try await Probe.start(.init(observer: try Pid.current))
            try await Probe.stop(server, reason: .normal)
            #expect(!server.isAlive)
            #expect(try await event() == .terminated(.normal))
            await #expect(throws: CallError.noproc) { try await Probe.stop(server) }
        }
    }

    @Test("a server trapping exits runs terminate when its parent exits, and exits with the same reason")
    func parentExit() async throws {
        try await withProcess {
            let observer = try Pid.current
            let (parent, parentRef) = try spawnMonitor {
                let server = try await Probe.startLink(.init(observer: observer, trapsExits: true))
                send(observer, server)
                throw try await receive(ExitReason.self)
            }
            let server = try await receive(Pid.self)
            let ref = try monitor(server)
            send(parent, ExitReason("parent_gone"))
            #expect(try await down(parentRef)?.reason == "parent_gone")
            #expect(try await event() == .terminated("parent_gone"))
            #expect(try await down(ref)?.reason == "parent_gone")
        }
    }

    @Test("a server registered by name is reached by name; a second start with the name fails")
    func names() async throws {
        try await withProcess {
            let server = try await Probe.start(.init(observer: try Pid.current), name: "genserver_probe")
            #expect(try await Probe.call("genserver_probe", .put(3)) == 3)
            Probe.cast("genserver_probe", 1)
            #expect(try await Probe.call("genserver_probe", .get) == 4)
            await #expect(throws: StartError.alreadyStarted(server)) {
                try await Probe.start(.init(observer: try Pid.current), name: "genserver_probe")
            }
            try await Probe.stop(server)
            #expect(whereis("genserver_probe") == nil)
        }
    }

    @Test("a handler that throws runs terminate with the error and crashes the server")
    func crashRunsTerminate() async throws {
        try await withProcess {
            let server = try await Probe.start(.init(observer: try Pid.current))
            _ = try? await Probe.call(server, .crash)
            #expect(try await event() == .terminated(.error(RuntimeError("crash in call"))))
        }
    }

    @Test("calls from outside any process work")
    func callFromOutside() async throws {
        let server = try await Probe.start(.init(observer: .external))
        #expect(try await Probe.call(server, .put(9)) == 9)
        try await Probe.stop(server)
    }
}
