import Testing

@testable import Ember

// Mutating calls are made outside #expect, which cannot take them.
extension ProcessStateTests {
    /// A cell to stand for the called server: `peer`'s (id 2, serial 0).
    var server: ProcessCell { ProcessCell(id: 2, serial: 0, origin: SpawnOrigin(parent: nil, file: #fileID, line: #line, function: "test")) }

    @Test("a call's reply is delivered once, and not once the call has ended")
    func callReplyOnce() {
        var state = State()
        let ref = Reference(value: 7)
        let began = state.beginCall(ref, server: server)
        let first = state.deliverReply(ref, Envelope(boxing: "reply")), second = state.deliverReply(ref, Envelope(boxing: "again"))
        let ended = state.endCall(ref)
        let late = state.deliverReply(ref, Envelope(boxing: "late"))
        #expect(began && first.isQueued && second.isDropped && late.isDropped)
        #expect(ended?.replied == true && ended?.downDelivered == false)
        #expect(state.call == nil)
        #expect(state.incomingCount == 1)
    }

    @Test("a server takes a call's monitor and request at once; a dead server or a dead caller leaves neither")
    func acceptCall() {
        var state = State()
        let (live, dead) = (Reference(value: 11), Reference(value: 12))
        let taken = state.acceptCall(Envelope(boxing: "request"), ref: live, from: peer, callerAlive: true)
        let fromDead = state.acceptCall(Envelope(boxing: "late"), ref: dead, from: peer, callerAlive: false)
        #expect(taken?.isQueued == true && fromDead?.isDropped == true)
        #expect(state.incomingCount == 1)
        #expect(state.monitoredBy[live] == peer && state.monitoredBy[dead] == nil)
        _ = state.exit("gone")
        let afterExit = state.acceptCall(Envelope(boxing: "request"), ref: Reference(value: 13), from: peer, callerAlive: true)
        #expect(afterExit == nil)
    }

    @Test("a call's DOWN is delivered once and noted; after the call it is dropped")
    func callDownOnce() {
        var state = State()
        let ref = Reference(value: 8)
        let down = DownMessage(ref: ref, pid: peer, reason: "boom")
        let began = state.beginCall(ref, server: server)
        let first = state.deliverDown(down), second = state.deliverDown(down)
        let ended = state.endCall(ref)
        let late = state.deliverDown(down)
        #expect(began && first.isQueued && second.isDropped && late.isDropped)
        #expect(ended?.downDelivered == true)
        #expect(state.incomingCount == 1)
    }

    @Test("a process that exits during a call hands over the call's monitor with its others; a dead one cannot call")
    func callMonitorOnExit() {
        var state = State()
        let callRef = Reference(value: 9), otherRef = Reference(value: 10)
        state.startMonitoring(me, ref: otherRef)
        let began = state.beginCall(callRef, server: server)
        #expect(began)
        #expect(state.allMonitoring == [callRef: peer, otherRef: me])
        let departure = state.exit("boom")
        #expect(departure?.monitoring == [callRef: peer, otherRef: me])
        #expect(state.call == nil)
        let again = state.beginCall(Reference(value: 11), server: server)
        #expect(!again)
    }

    @Test("a server keeps its monitor table's storage between calls and lets it go when dormant")
    func callMonitorStorage() {
        var state = State()
        let ref = Reference(value: 12)
        _ = state.addMonitor(ref, by: peer)
        state.removeCallMonitor(ref)
        #expect(state.monitoredBy.isEmpty && state.monitoredBy.capacity > 0)
        let slept = state.becomeDormant(Handler())
        #expect(slept)
        #expect(state.monitoredBy.capacity == 0)
    }
}
