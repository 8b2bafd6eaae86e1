import Foundation
import Testing

@testable import Ember

@Suite("README")
struct QuickStartTests {
    @Test("the README's quick start compiles, runs and prints its greeting")
    func quickStart() async throws {
        // quick start begin
        let greeting = try await withProcess { () -> String in
            let parent = try Pid.current
            let child = spawn {
                let (from, name) = try await receive { (message: (Pid, String)) in message }
                send(from, "Hello, \(name)!")
            }
            send(child, (parent, "Ember"))
            return try await receive { (reply: String) in reply }
        }
        print(greeting)  // Hello, Ember!
        // quick start end
        #expect(greeting == "Hello, Ember!")
    }

    @Test("the quick start in the README is the code of the test above")
    func readmeMatches() throws {
        let testFile = try String(contentsOfFile: #filePath, encoding: .utf8)
        let readme = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md"),
            encoding: .utf8)
        let begin = "// quick start " + "begin\n", end = "// quick start " + "end"
        let body = try #require(testFile.components(separatedBy: begin).dropFirst().first?.components(separatedBy: end).first)
        let code = body.split(separator: "\n").map { $0.hasPrefix("        ") ? $0.dropFirst(8) : $0[...] }.joined(separator: "\n")
        #expect(readme.contains(code), "README.md must show the quick start exactly as QuickStartTests runs it")
    }
}
