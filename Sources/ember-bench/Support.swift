import Ember

#if canImport(Glibc)
import Glibc
#endif

struct Bench: Sendable {
    let run: @Sendable (Options, Report) async throws -> Void

    static let all: [String: Bench] = [
        "pingpong": Bench(run: pingpong),
        "skynet": Bench(run: skynet),
        "actors": Bench(run: actors),
        "genserver-call": Bench(run: genserverCall),
        "idle-agents": Bench(run: idleAgents),
        "ring": Bench(run: ring),
        "fan-in": Bench(run: fanIn),
        "selective": Bench(run: selective),
        "pairs": Bench(run: pairs),
        "self-send": Bench(run: selfSend),
        "yield": Bench(run: yieldLoop),
        "floor": Bench(run: continuationFloor),
        "spawn-idle": Bench(run: spawnIdle),
        "fairness": Bench(run: fairness),
    ]
}

struct Options: Sendable {
    private var values: [String: String] = [:]
    private var flags: Set<String> = []

    init(_ arguments: [String]) {
        var index = 0
        while index < arguments.count {
            let key = arguments[index].hasPrefix("--") ? String(arguments[index].dropFirst(2)) : arguments[index]
            if index + 1 < arguments.count, !arguments[index + 1].hasPrefix("--") {
                values[key] = arguments[index + 1]
                index += 2
            } else {
                flags.insert(key)
                index += 1
            }
        }
    }

    func flag(_ name: String) -> Bool { flags.contains(name) }
    func int(_ name: String, default value: Int) -> Int { values[name].flatMap(Int.init) ?? value }
}

struct Report: Sendable {
    let bench: String
    let json: Bool

    func metric(_ metric: String, _ value: Double, _ unit: String) {
        if json {
            print("{\"bench\":\"\(bench)\",\"metric\":\"\(metric)\",\"value\":\(rounded(value)),\"unit\":\"\(unit)\"}")
        } else {
            print("\(bench): \(metric) \(rounded(value)) \(unit)")
        }
    }

    private func rounded(_ value: Double) -> String {
        let scaled = (value * 10).rounded() / 10
        return scaled == scaled.rounded() ? String(Int(scaled)) : String(scaled)
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var string = string
        string.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

/// Monotonic nanoseconds.
func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Resident set size in bytes, from /proc/self/statm.
func residentBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 256) }
    guard count > 0 else { return 0 }
    let fields = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: " ")
    guard fields.count >= 2, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func percentile(_ sorted: [UInt64], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let index = min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)
    return Double(sorted[max(0, index)])
}
