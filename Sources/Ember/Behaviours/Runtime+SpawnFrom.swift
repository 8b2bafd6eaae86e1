extension Runtime {
    /// Spawns `body` as a child of `parent` (nil: from outside any process),
    /// with the call site as its origin for its crash report: the preamble
    /// shared by `spawn`, `spawnLink`, `spawnMonitor`, `withProcess` and the
    /// ``Tasks`` functions, which differ only in `link`, `monitor` and `kind`.
    ///
    /// It lives beside the behaviours rather than in `Process/Spawn.swift` so
    /// that the process layer can change under it; the spawn functions call it.
    func spawn(
        from parent: ProcessCell?, link: Bool = false, monitor: Bool = false, kind: SpawnOrigin.Kind = .process,
        file: StaticString, line: UInt, function: String, body: @escaping ProcessBody
    ) -> (pid: Pid, ref: Reference?) {
        let origin = SpawnOrigin(parent: parent?.pid, file: file, line: line, function: function, kind: kind)
        return spawn(parent: parent, link: link, monitor: monitor, origin: origin, body: body)
    }
}
