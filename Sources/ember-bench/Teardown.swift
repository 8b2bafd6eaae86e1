import Ember

#if canImport(Glibc)
import Glibc
#endif

// Tearing benches down and checking that they leave nothing behind. Issue 4:
// "No bench leaks: the process count and RSS return to their starting level
// after teardown (report both)". The BEAM side does the same in
// bench/beam/ember_bench.erl (leak_baseline/0, report_leaks/2).

/// Live processes and resident memory when a bench starts.
struct LeakBaseline {
    let processes: Int
    let resident: Int

    /// Starts the runtime first (its threads and tables belong to the program,
    /// not to the bench), waits for that process to be gone, then records.
    static func take() async throws -> LeakBaseline {
        try await withProcess {}
        let processes = await settledProcessCount(atMost: 0, seconds: 1)
        return LeakBaseline(processes: processes, resident: await settledResidentBytes())
    }
}

/// Reports `processes_after` (live processes now minus at the start) and
/// `rss_after_teardown` (resident bytes now minus at the start).
func reportLeaks(since baseline: LeakBaseline, _ report: Report) async {
    let processes = await settledProcessCount(atMost: baseline.processes, seconds: 30)
    let resident = await settledResidentBytes()
    report.metric("processes_after", Double(processes - baseline.processes), "processes")
    report.metric("rss_after_teardown", Double(resident - baseline.resident), "bytes")
}

/// Kills every process that is not in `before` and waits until the process
/// count is back down by `expected` and `finished()` holds. Returns the time
/// that took, in ns.
///
/// The processes are found through `processes()`, as the BEAM side finds them,
/// so that the bench need not keep a million pids (they would count towards
/// the memory per process).
func killNewProcesses(
    since before: Set<Pid>, expected: Int, until finished: () -> Bool = { true }
) async throws -> UInt64 {
    let new = processes().filter { !before.contains($0) }
    guard new.count == expected else { throw BenchError.wrongResult("\(new.count) new processes, expected \(expected)") }
    let target = processCount - expected
    let start = now()
    for pid in new { pid.exit(.kill) }
    guard await poll(seconds: 120, until: { processCount <= target && finished() }) else {
        throw BenchError.wrongResult("teardown: \(processCount) processes left, expected \(target)")
    }
    return now() - start
}

/// Checks `condition` every millisecond (like the BEAM side's `timer:sleep(1)`
/// loops) until it holds; false if `seconds` pass first.
func poll(seconds: Double, until condition: () -> Bool) async -> Bool {
    let deadline = now() + UInt64(seconds * 1e9)
    while !condition() {
        if now() > deadline { return false }
        try? await Task.sleep(nanoseconds: 1_000_000)
    }
    return true
}

/// The process count once it is at most `target`, or whatever it is after
/// `seconds`. A killed process leaves the count at once, one that returns
/// only when its task has run to the end.
func settledProcessCount(atMost target: Int, seconds: Double) async -> Int {
    _ = await poll(seconds: seconds) { processCount <= target }
    return processCount
}

/// Resident bytes once they stop changing: two readings 10 ms apart agree
/// (or 2 s passed). The tasks of killed processes unwind on the scheduler
/// after the process count has dropped, and free their memory as they go.
func settledResidentBytes() async -> Int {
    var last = trimmedResidentBytes()
    let deadline = now() + 2_000_000_000
    while now() < deadline {
        try? await Task.sleep(nanoseconds: 10_000_000)
        let current = trimmedResidentBytes()
        if current == last { break }
        last = current
    }
    return last
}

/// Resident bytes after giving free heap memory back to the OS. glibc's
/// malloc keeps freed blocks in its arenas (one per thread that allocated),
/// so without `malloc_trim(0)` RSS would stay at its high-water mark and
/// measure the allocator rather than what the bench still holds. Under
/// jemalloc (preloaded: see `scripts/bench-vs-beam`), its arenas are purged instead.
func trimmedResidentBytes() -> Int {
    if let jemallocControl {
        // MALLCTL_ARENAS_ALL (4096): every arena gives its unused dirty pages back.
        _ = jemallocControl("arena.4096.purge", nil, nil, nil, 0)
    } else {
        _ = mallocTrim?(0)
    }
    return residentBytes()
}

/// jemalloc's `int mallctl(const char *name, void *oldp, size_t *oldlenp,
/// void *newp, size_t newlen)`.
private typealias MallocControl = @convention(c) (
    UnsafePointer<CChar>, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?, UnsafeMutableRawPointer?, Int
) -> Int32

/// jemalloc's `mallctl`, if jemalloc is the program's allocator.
private let jemallocControl: MallocControl? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallctl") else { return nil }
    // Unsafe cast: the symbol is jemalloc's `mallctl`, whose C signature is
    // exactly `MallocControl`.
    return unsafeBitCast(symbol, to: MallocControl.self)
}()

/// glibc's `malloc_trim`, looked up at run time: Swift's Glibc module does not
/// import <malloc.h>. nil where the C library has none (musl, Darwin).
private let mallocTrim: (@convention(c) (Int) -> Int32)? = {
    #if canImport(Glibc)
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
    // Unsafe cast: the symbol is glibc's `int malloc_trim(size_t pad)`, whose C
    // signature is exactly this function type.
    return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    #else
    return nil
    #endif
}()
