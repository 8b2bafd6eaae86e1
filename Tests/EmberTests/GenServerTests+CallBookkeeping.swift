import Testing

@testable import Ember

/// A server that hands each call's `From` to `observer` and replies later, if ever.
private struct Forwarder: GenServer {
    typealias Argument = Pid
    typealias Request = Int
    typealias Reply = Int
    let observer: Pid

    static func initialize(_ observer: Pid) async throws -> InitResult<Forwarder> { .ok(Forwarder(observer: observer)) }

    mutating func handleCall(_ request: Int, from: From) async throws -> CallResult<Forwarder> {
        send(observer, from)
        return .noReply
    }
}

extension GenServerTests {
    @Test("a caller monitors its server while the call lasts, and neither keeps the monitor after")
    func callMonitorLifetime() async throws {
        try await withProcess {
            let me = try Pid.current
            let server = try await Forwarder.startLink(me)
            let caller = try spawnLink {
                let reply = try await Forwarder.call(server, 1)
                send(me, reply)
            }
            let from = try await receive(From.self, after: 10_000)
            #expect(from?.pid == caller)
            #expect(caller.info()?.monitors == [server])
            #expect(server.info()?.monitoredBy == [caller])
            if let from { Forwarder.reply(from, 2) }
            #expect(try await receive(Int.self, after: 10_000) == 2)
            #expect(await eventually { server.info()?.monitoredBy == [] })
        }
    }

    @Test("a caller whose server exits gets the reason, and a reply sent after the exit is not left in its mailbox")
    func noStrayReply() async throws {
        try await withProcess {
            let me = try Pid.current
            let server = try await Forwarder.start(me)
            _ = try spawnLink {
                await #expect(throws: CallError.exited("boom")) { try await Forwarder.call(server, 1) }
                send(me, try flush().count)
            }
            guard let from = try await receive(From.self, after: 10_000) else {
                Issue.record("the call did not reach the server")
                return
            }
            let ref = try monitor(server)
            server.exit("boom")
            _ = try await down(ref)
            Forwarder.reply(from, 2)
            #expect(try await receive(Int.self, after: 10_000) == 0)
        }
    }

    @Test("a call whose request is not the server's Request type fails the server with a GenServerError, and the caller with its exit")
    func callOfAnotherType() async throws {
        try await withProcess {
            let server = try await Forwarder.start(try Pid.current)
            // Not reachable through the typed API: the untyped call protocol.
            try await expectCallFails(server, withReasonMentioning: "no handler for the call") {
                let _: Int = try await Calls.call(server, "not an Int", timeout: 10_000)
            }
        }
    }
}
