extension GenServer {
    /// Starts a server process, not linked, and returns its pid once
    /// ``initialize(_:)`` has run in it.
    ///
    /// - Throws: ``StartError`` if it is ignored, fails, times out, or `name` is taken.
    public static func start(
        _ argument: Argument, name: ProcessName? = nil, timeout: Timeout = .infinity,
        file: StaticString = #fileID, line: UInt = #line
    ) async throws -> Pid {
        try await launch(argument, link: false, name: name, timeout: timeout, file: file, line: line)
    }

    /// Starts a server process linked to the caller (Elixir's `start_link`).
    ///
    /// - Throws: ``StartError``; ``ProcessError/notInProcess(_:)`` outside a process.
    public static func startLink(
        _ argument: Argument, name: ProcessName? = nil, timeout: Timeout = .infinity,
        file: StaticString = #fileID, line: UInt = #line
    ) async throws -> Pid {
        _ = try ProcessCell.required("startLink")
        return try await launch(argument, link: true, name: name, timeout: timeout, file: file, line: line)
    }

    /// Sends `request` and waits for the reply (default timeout 5 seconds).
    ///
    /// - Throws: ``CallError`` on timeout, if the server is not alive
    ///   (`noproc`) or exits before replying. Uncaught, it ends the caller.
    @inlinable
    public static func call(_ server: Pid, _ request: Request, timeout: Timeout = 5_000) async throws -> Reply {
        try await Calls.call(server, request, timeout: timeout)
    }

    /// Calls the server registered under `name`.
    public static func call(_ name: ProcessName, _ request: Request, timeout: Timeout = 5_000) async throws -> Reply {
        guard let server = name.whereis() else { throw CallError.noproc }
        return try await call(server, request, timeout: timeout)
    }

    /// Sends `request` without waiting; does nothing if the server is gone.
    public static func cast(_ server: Pid, _ request: Cast) {
        ProcessCell.send(CastMessage(request: request), to: server.cell)
    }

    /// Casts to the server registered under `name`, if any.
    public static func cast(_ name: ProcessName, _ request: Cast) {
        if let server = name.whereis() { cast(server, request) }
    }

    /// Answers a call a handler deferred with `.noReply`.
    public static func reply(_ from: From, _ reply: Reply) {
        Calls.reply(from, reply)
    }

    /// Stops the server with `reason` (running its ``terminate(_:)``) and
    /// waits until it has exited.
    ///
    /// - Throws: ``CallError/noproc`` if it is not alive, ``CallError/timeout``
    ///   if it has not exited in time.
    public static func stop(_ server: Pid, reason: ExitReason = .normal, timeout: Timeout = .infinity) async throws {
        guard ProcessCell.current != nil else {
            return try await withProcess { try await stop(server, reason: reason, timeout: timeout) }
        }
        let ref = try monitor(server)
        send(server, StopRequest(reason: reason))
        guard let down = try await receive(after: timeout, { (m: DownMessage) in m.ref == ref ? m : nil }) else {
            try demonitor(ref, flush: true)
            throw CallError.timeout
        }
        if down.reason == .noproc { throw CallError.noproc }
    }

    private static func launch(
        _ argument: Argument, link: Bool, name: ProcessName?, timeout: Timeout, file: StaticString, line: UInt
    ) async throws -> Pid {
        let parent = ProcessCell.current
        let origin = SpawnOrigin(parent: parent?.pid, file: file, line: line, function: "initialize")
        let body: @Sendable () async throws -> Turn = { try await serve(argument, name: name, parent: link ? parent?.pid : nil) }
        let (pid, _) = Runtime.shared.spawnCell(
            parent: link ? parent : nil, link: link, monitor: false, origin: origin, entry: .server(body))
        let reply: InitReply
        do {
            reply = try await Calls.call(pid, InitRequest(), timeout: timeout)
        } catch let error as CallError {
            if error == .timeout {
                if link, parent != nil { try? unlink(pid) }
                pid.exit(.kill)
                throw StartError.timeout
            }
            throw StartError.failed(error.reason)
        }
        switch reply {
        case .started: return pid
        case .ignored: throw StartError.ignored
        case .nameTaken(let holder): throw StartError.alreadyStarted(holder)
        }
    }

    /// The body of a server process: register, initialize, then serve.
    private static func serve(_ argument: Argument, name: ProcessName?, parent: Pid?) async throws -> Turn {
        let me = try ProcessCell.required("GenServer")
        let start = try await receive { (call: CallMessage) in call.request is InitRequest ? call.from : nil }
        if let name {
            do {
                try name.register(me.pid)
            } catch {
                Calls.reply(start, InitReply.nameTaken(name.whereis() ?? me.pid))
                return .finished
            }
        }
        switch try await initialize(argument).kind {
        case .ok(let server, let next):
            Calls.reply(start, InitReply.started)
            let loop = GenServerLoop(server, parent: parent)
            try await loop.proceed(next)
            return try await loop.serve(in: me)
        case .ignore:
            Calls.reply(start, InitReply.ignored)
            return .finished
        case .stop(let reason):
            throw reason
        }
    }
}
