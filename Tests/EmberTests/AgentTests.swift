import Synchronization
import Testing

@testable import Ember

@Suite("Agent")
struct AgentTests {
    @Test("seed: start_link returns an agent, update changes the map, get reads :world back")
    func seedState() async throws {
        let value = try await withProcess { () -> Atom? in
            let agent = try await Agent.startLink { [Atom: Atom]() }
            #expect(agent.pid.isAlive)
            try await agent.update { map in map["hello"] = "world" }
            return try await agent.get { map in map["hello"] }
        }
        #expect(value == "world")
    }

    @Test("getAndUpdate returns a value and changes the state in one step")
    func getAndUpdate() async throws {
        try await withProcess {
            let agent = try await Agent.startLink { 10 }
            let old = try await agent.getAndUpdate { (n: inout Int) -> Int in
                defer { n += 1 }
                return n
            }
            #expect(old == 10)
            #expect(try await agent.get { $0 } == 11)
        }
    }

    @Test("cast changes the state without waiting; later calls see it")
    func cast() async throws {
        try await withProcess {
            let agent = try await Agent.startLink { [Int]() }
            for i in 0..<100 { agent.cast { $0.append(i) } }
            #expect(try await agent.get { $0 } == Array(0..<100))
        }
    }

    @Test("stop ends the agent; calling it afterwards fails with noproc")
    func stop() async throws {
        try await withProcess {
            let agent = try await Agent.startLink { 0 }
            try await agent.stop()
            #expect(!agent.pid.isAlive)
            await #expect(throws: CallError.noproc) { try await agent.get { $0 } }
        }
    }

    @Test("an agent registered by name is found by it, and a taken name is a typed error")
    func names() async throws {
        try await withProcess {
            let agent = try await Agent.start(name: "agent_names_test") { "state" }
            #expect(whereis("agent_names_test") == agent.pid)
            await #expect(throws: StartError.alreadyStarted(agent.pid)) {
                _ = try await Agent.start(name: "agent_names_test") { "other" }
            }
            let found = Agent<String>(pid: try #require(whereis("agent_names_test")))
            #expect(try await found.get { $0 } == "state")
            try await agent.stop()
        }
    }

    @Test("a handle of another state type fails the agent with a typed error, and the caller with its exit")
    func handleOfAnotherStateType() async throws {
        try await withProcess {
            let agent = try await Agent.start { "a string" }
            let mistyped = Agent<Int>(pid: agent.pid)
            try await expectCallFails(agent.pid, withReasonMentioning: "state of type Int") {
                _ = try await mistyped.get { $0 + 1 }
            }
        }
    }

    @Test("a call that takes longer than its timeout fails with timeout and the agent lives on")
    func callTimeout() async throws {
        try await withProcess {
            let agent = try await Agent.startLink { 0 }
            await #expect(throws: CallError.timeout) {
                try await agent.get(timeout: 50) { _ in
                    // An agent function cannot suspend: keep the agent busy for
                    // a short, bounded while, longer than the call's timeout.
                    let until = ContinuousClock.now + .milliseconds(300)
                    while ContinuousClock.now < until {}
                    return 1
                }
            }
            #expect(try await agent.get(timeout: 10_000) { $0 } == 0)
            #expect(try Pid.current.info()?.messageQueueLength == 0, "the late reply was dropped")
        }
    }

    @Test("a function that throws crashes the agent and the caller gets its reason")
    func crashingFunction() async throws {
        try await withProcess {
            try trapExits(true)
            let agent = try await Agent.startLink { 0 }
            await #expect(throws: CallError.exited(.error(RuntimeError("bad")))) {
                try await agent.update { _ in throw RuntimeError("bad") }
            }
            #expect(try await exitMessage(from: agent.pid)?.reason == .error(RuntimeError("bad")))
        }
    }

    @Test("an idle agent holds no Swift task, wakes up for its next call, and goes dormant again after it")
    func idleIsDormant() async throws {
        try await withProcess {
            let agent = try await Agent.startLink { 1 }
            let dormant = { agent.pid.cell?.withState { $0.task == nil && $0.isWaiting } ?? false }
            #expect(await eventually(dormant))
            #expect(try await agent.get { $0 + 1 } == 2)
            // The agent lingers for a turn after replying, then lets its task go.
            #expect(await eventually(dormant))
        }
    }
}
