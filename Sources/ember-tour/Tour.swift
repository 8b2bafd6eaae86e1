import Ember

/// The seed's examples, section by section.
enum Tour {
    static let sections: [Section] = [spawning, messages, links, tasks, state]

    static let spawning = Section(
        title: "spawn",
        text: "spawn takes a function which it will execute in another process; it returns a pid.",
        steps: [
            Step("let pid = spawn { _ = 1 + 2 }") { shell in
                let pid = spawn { _ = 1 + 2 }
                shell.set("pid", pid)
                return pid
            },
            Step("pid.isAlive   // it ran its function and exited") { shell in
                shell["pid", as: Pid.self].isAlive
            },
            Step("try Pid.current   // self()") { _ in try Pid.current },
            Step("try Pid.current.isAlive") { _ in try Pid.current.isAlive },
        ])

    static let messages = Section(
        title: "send and receive",
        text: "send puts a message in a mailbox and never blocks; receive picks the first message a pattern matches.",
        steps: [
            Step("send(try Pid.current, (Atom(\"hello\"), \"world\"))") { _ in
                send(try Pid.current, (Atom("hello"), "world"))
            },
            Step("""
            try await receive { (message: (Atom, String)) -> String? in
                switch message {
                case ("hello", let msg): msg
                case ("world", _): "won't match"
                default: nil
                }
            }
            """) { _ in
                try await receive { (message: (Atom, String)) -> String? in
                    switch message {
                    case ("hello", let msg): msg
                    case ("world", _): "won't match"
                    default: nil
                    }
                }
            },
            Step("""
            try await receive(after: 1_000) { (message: (Atom, String)) -> String? in
                message.0 == "hello" ? message.1 : nil
            } ?? "nothing after 1s"
            """) { _ in
                try await receive(after: 1_000) { (message: (Atom, String)) -> String? in
                    message.0 == "hello" ? message.1 : nil
                } ?? "nothing after 1s"
            },
            Step("let parent = try Pid.current") { shell in
                let parent = try Pid.current
                shell.set("parent", parent)
                return parent
            },
            Step("spawn { send(parent, (Atom(\"hello\"), try Pid.current)) }") { shell in
                let parent: Pid = shell["parent"]
                return spawn { send(parent, (Atom("hello"), try Pid.current)) }
            },
            Step("""
            try await receive { (message: (Atom, Pid)) -> String? in
                switch message {
                case ("hello", let pid): "Got hello from \\(inspect(pid))"
                default: nil
                }
            }
            """) { _ in
                try await receive { (message: (Atom, Pid)) -> String? in
                    switch message {
                    case ("hello", let pid): "Got hello from \(inspect(pid))"
                    default: nil
                    }
                }
            },
            Step("send(try Pid.current, Atom(\"hello\"))") { _ in send(try Pid.current, Atom("hello")) },
            Step("try flush()   // prints each waiting message, then :ok") { _ in
                for message in try flush() { print(inspect(message)) }
                return Atom.ok
            },
        ])

    static let links = Section(
        title: "links",
        text: "A crash is isolated: it is logged and nobody else is affected, unless the processes are linked.",
        steps: [
            Step("spawn { throw RuntimeError(\"oops\") }") { _ in
                let pid = spawn { throw RuntimeError("oops") }
                // Like a person at the prompt, wait until the report is out.
                let ref = try monitor(pid)
                _ = try await receive { (down: DownMessage) in down.ref == ref ? down : nil }
                return pid
            },
            Step("try Pid.current") { _ in try Pid.current },
            Step("try spawnLink { throw RuntimeError(\"oops\") }") { _ in
                let pid = try spawnLink { throw RuntimeError("oops") }
                // The evaluator idles at the prompt; the exit signal takes it down.
                _ = try await receive(Never.self)
                return pid
            },
            Step("try Pid.current   // a new evaluator") { _ in try Pid.current },
        ])

    static let tasks = Section(
        title: "Tasks",
        text: "Tasks build on the spawn functions to provide better error reports and introspection.",
        steps: [
            Step("Tasks.start { throw RuntimeError(\"oops\") }") { _ in
                let pid = Tasks.start { throw RuntimeError("oops") }
                // Wait, as a person at the prompt would, until the report is out.
                let ref = try monitor(pid)
                _ = try await receive { (down: DownMessage) in down.ref == ref ? down : nil }
                return (Atom.ok, pid)
            },
        ])

    static let state = Section(
        title: "State",
        text: "Agents are simple abstractions around state, kept in a process.",
        steps: [
            Step("let agent = try await Agent.startLink { [Atom: Atom]() }") { shell in
                let agent = try await Agent.startLink { [Atom: Atom]() }
                shell.set("agent", agent)
                return (Atom.ok, agent.pid)
            },
            Step("try await agent.update { map in map[\"hello\"] = \"world\" }") { shell in
                let agent: Agent<[Atom: Atom]> = shell["agent"]
                try await agent.update { map in map["hello"] = "world" }
                return Atom.ok
            },
            Step("try await agent.get { map in map[\"hello\"] }") { shell in
                let agent: Agent<[Atom: Atom]> = shell["agent"]
                return try await agent.get { map in map["hello"] }
            },
        ])
}
