import Testing
@testable import Ember
@Test func smoke() async throws {
    let r = try await withProcess { () -> String in
        let me = try Pid.current
        send(me, (Atom("hello"), "world"))
        return try await receive { (m: (Atom, String)) -> String? in
            switch m {
            case ("hello", let msg): msg
            default: nil
            }
        }
    }
    #expect(r == "world")
}
