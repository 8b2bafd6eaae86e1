import Ember

#if canImport(Glibc)
import Glibc
#endif

// ember-bench NAME [--json] [--param value ...]
// One bench per run. Prints a human line per metric, or with --json one JSON
// object per line: {"bench": NAME, "metric": ..., "value": ..., "unit": ...}.

let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, let bench = Bench.all[name] else {
    var standardError = StandardError()
    print("usage: ember-bench NAME [--json] [--PARAM VALUE ...]\nbenches: \(Bench.all.keys.sorted().joined(separator: ", "))", to: &standardError)
    exit(2)
}
let options = Options(Array(arguments.dropFirst()))
let report = Report(bench: name, json: options.flag("json"))
do {
    try await bench.run(options, report)
} catch {
    var standardError = StandardError()
    print("ember-bench \(name) failed: \(error)", to: &standardError)
    exit(1)
}
exit(0)
