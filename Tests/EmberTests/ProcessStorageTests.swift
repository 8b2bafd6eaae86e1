import Foundation
import Synchronization
import Testing

@testable import Ember

/// What every process keeps, and so what a million of them cost: the
/// state's layout, its out-of-line relations, the process table's slots.
@Suite("Process storage")
struct ProcessStorageTests {
    typealias State = ProcessState<Int>

    @Test("the per-process records stay packed")
    func packedRecords() {
        // Upper bounds, so that a field added without care shows up here.
        // 80 bytes, plus the 24 of the call slot (`PendingCall`) that lets a
        // call allocate nothing and the 8 of the list of full segments that
        // keeps a backlog from being one growing buffer (`IncomingQueue`).
        #expect(MemoryLayout<ProcessState<ProcessCell.Waiter>>.size <= 112)
        #expect(MemoryLayout<SpawnOrigin>.size <= 48)
        #expect(MemoryLayout<MessageBuffer>.size <= 24)
    }

    @Test("the fields a woken receive reads first lie where its waker prefetches them (bytes 192 to 320 of its cell)")
    func prefetchedFields() async throws {
        let ranges = try await withProcess { () -> [(String, Range<Int>)] in
            let cell = try #require(ProcessCell.current)
            let base = Int(bitPattern: Unmanaged.passUnretained(cell).toOpaque())
            func range<T>(_ field: UnsafeMutablePointer<T>) -> Range<Int> {
                let start = Int(bitPattern: field) - base
                return start..<(start + MemoryLayout<T>.size)
            }
            return [
                ("wake", withUnsafeMutablePointer(to: &cell.wake) { range($0) }),
                ("parkedAwayFromItsExecutor", withUnsafeMutablePointer(to: &cell.parkedAwayFromItsExecutor) { range($0) }),
                ("budget", withUnsafeMutablePointer(to: &cell.budget) { range($0) }),
                ("saved", withUnsafeMutablePointer(to: &cell.saved) { range($0) }),
                ("receiveScanned", withUnsafeMutablePointer(to: &cell.receiveScanned) { range($0) }),
            ]
        }
        for (name, range) in ranges {
            #expect(range.lowerBound >= 192 && range.upperBound <= 320, "\(name) at \(range)")
        }
    }

    @Test("relations are values: changing a copy leaves the original as it was")
    func relationsAreValues() {
        let peer = Pid(node: 0, id: 100, serial: 0, creation: 0)
        var original = State()
        _ = original.addLink(peer)
        var copy = original
        copy.removeLink(peer)
        copy.name = "renamed"
        #expect(original.links == [peer] && original.name == nil)
        #expect(copy.links.isEmpty && copy.name == "renamed")
    }

    @Test("the last relation removed leaves none, and removals of absent ones change nothing")
    func relationsEmptyAgain() {
        let ref = Reference(value: 7)
        var state = State()
        state.deactivateAlias(ref)
        #expect(state.stopMonitoring(ref) == nil)
        state.activateAlias(ref)
        state.startMonitoring(Pid(node: 0, id: 100, serial: 0, creation: 0), ref: ref)
        #expect(state.deliverReply(ref, Envelope(boxing: "reply")).isQueued)
        #expect(state.stopMonitoring(ref) != nil)
        #expect(state.links.isEmpty && state.monitoring.isEmpty && state.monitoredBy.isEmpty && state.name == nil)
        #expect(state.deliverReply(ref, Envelope(boxing: "late")).isDropped)
    }

    @Test("a DOWN for a monitor that was removed is dropped, even while others are held")
    func downAfterDemonitor() {
        let target = Pid(node: 0, id: 100, serial: 0, creation: 0)
        var state = State()
        state.startMonitoring(target, ref: Reference(value: 1))
        state.startMonitoring(target, ref: Reference(value: 2))
        _ = state.stopMonitoring(Reference(value: 1))
        let down = DownMessage(ref: Reference(value: 1), pid: target, reason: .normal)
        #expect(state.deliverDown(down).isDropped)
        #expect(state.monitoring.count == 1)
    }

    @Test("a freed slot is reused with the next serial; lookups find only the live process")
    func tableSlots() {
        let table = ProcessTable()
        let origin = SpawnOrigin(parent: nil, file: #fileID, line: #line, function: #function)
        let first = table.add { ProcessCell(id: $0, serial: $1, origin: origin) }
        #expect(first.id != 0 && table.count == 1)
        #expect(table.lookup(id: first.id, serial: first.serial) === first)
        table.remove(first)
        #expect(table.lookup(id: first.id, serial: first.serial) == nil && table.count == 0)
        // The next spawn on the same shard reuses the slot.
        var reused: ProcessCell?
        var others: [ProcessCell] = []
        for _ in 0..<64 {
            let cell = table.add { ProcessCell(id: $0, serial: $1, origin: origin) }
            if cell.id == first.id { reused = cell } else { others.append(cell) }
        }
        #expect(reused?.serial == first.serial &+ 1)
        #expect(table.lookup(id: first.id, serial: first.serial) == nil)
        #expect(table.all().count == 64)
        table.remove(first)  // the old process again: nothing happens
        #expect(table.count == 64)
    }

    @Test("an origin keeps its parent by number and prints it as before")
    func originParent() {
        let parent = Pid(node: 0, id: 4_242, serial: 3, creation: 0)
        let origin = SpawnOrigin(parent: parent, file: #fileID, line: 12, function: "f()", kind: .task)
        #expect(origin.parent == parent && origin.parent?.description == "#PID<0.4242.3>")
        #expect(origin.line == 12 && origin.kind == .task)
        #expect(SpawnOrigin(parent: nil, file: #fileID, line: 1, function: "g()").parent == nil)
    }

    @Test("a process knows itself whether it was spawned from a task, a process or a thread outside any task")
    func knowsItselfFromEverySpawner() async throws {
        let known = Mutex<[Bool]>([])
        let record: @Sendable () -> Void = {
            spawn {
                let me = try? Pid.current
                known.withLock { $0.append(me != nil && ProcessCell.current === me?.cell) }
            }
        }
        record()  // from this test's task
        try await withProcess { record() }  // from a process
        let thread = Thread { record() }  // from a thread with no task
        thread.start()
        #expect(await eventually { known.withLock { $0.count } == 3 })
        #expect(known.withLock { $0 } == [true, true, true])
    }

    @Test("a process finds itself again after awaits that are not Ember's")
    func findsItselfAfterForeignAwaits() async throws {
        actor Elsewhere { func visit() -> Int { 1 } }
        let elsewhere = Elsewhere()
        let (same, owned) = try await withProcess { () -> ([Bool], Bool) in
            let me = try Pid.current
            var same: [Bool] = []
            try await Swift.Task.sleep(for: .milliseconds(1))
            same.append(try Pid.current == me)
            _ = await elsewhere.visit()
            same.append(try Pid.current == me)
            await Swift.Task.yield()
            same.append(try Pid.current == me)
            let owner = Runtime.shared.withOwners { $0.process(of: taskIdentity()) }
            return (same, owner?.toOpaque() == me.cell.map { Unmanaged.passUnretained($0).toOpaque() })
        }
        #expect(same == [true, true, true])
        #expect(owned)
    }

    @Test("the owner table finds, replaces and forgets entries through growth, removals and shrinking")
    func ownerTable() {
        let cell = ProcessCell(id: 1, serial: 0, origin: SpawnOrigin(parent: nil, file: #fileID, line: 1, function: "f()"))
        let other = ProcessCell(id: 2, serial: 0, origin: SpawnOrigin(parent: nil, file: #fileID, line: 1, function: "f()"))
        var table = OwnerTable()
        #expect(table.find(16) == nil)
        // Task addresses are 16-byte aligned; mix in every probe path.
        let tasks = (1...5_000).map { UInt($0) * 16 }
        for task in tasks { table.insert(task, .passUnretained(cell)) }
        #expect(table.count == 5_000)
        #expect(tasks.allSatisfy { table.find($0)?.toOpaque() == Unmanaged.passUnretained(cell).toOpaque() })
        table.insert(tasks[0], .passUnretained(other))  // replaces
        #expect(table.count == 5_000)
        #expect(table.find(tasks[0])?.toOpaque() == Unmanaged.passUnretained(other).toOpaque())
        for task in tasks.dropFirst() where task % 32 == 0 { table.remove(task) }
        #expect(tasks.allSatisfy { task in (table.find(task) != nil) == (task % 32 != 0 || task == tasks[0]) })
        table.insert(tasks[2], .passUnretained(other))
        #expect(table.find(tasks[2])?.toOpaque() == Unmanaged.passUnretained(other).toOpaque())
        table.remove(tasks[2])
        #expect(table.find(tasks[2]) == nil)
        table.insert(tasks[2], .passUnretained(cell))
        for task in tasks { table.remove(task) }
        #expect(table.count == 0)
        #expect(tasks.allSatisfy { table.find($0) == nil })
        table.insert(48, .passUnretained(cell))
        #expect(table.find(48) != nil && table.count == 1)
        // A key behind a removed one in its probe chain is found and
        // replaced, not duplicated: two keys with one home slot in a new table.
        let slots = OwnerTable.smallest
        let home = { (task: UInt) in Int(truncatingIfNeeded: OwnerTable.mix(task) >> 32) & (slots - 1) }
        let candidates = (1...100_000).lazy.map { UInt($0) * 16 }
        var small = OwnerTable()
        let first: UInt = 16
        let second = candidates.first { $0 != first && home($0) == home(first) }!
        small.insert(first, .passUnretained(cell))
        small.insert(second, .passUnretained(cell))
        small.remove(first)  // the second moves back into the shared home slot
        small.insert(second, .passUnretained(other))
        #expect(small.count == 1)
        #expect(small.find(second)?.toOpaque() == Unmanaged.passUnretained(other).toOpaque())
        small.remove(second)
        #expect(small.count == 0 && small.find(second) == nil)
        // Across the end of the table: two keys at home in the last slot
        // (the second wraps to slot 0) and one at home in slot 0 (pushed to
        // slot 1). Removing the first moves both back, across the wrap.
        let last = Array(candidates.filter { home($0) == slots - 1 }.prefix(2))
        let atZero = candidates.first { home($0) == 0 }!
        var wrapping = OwnerTable()
        for task in last + [atZero] { wrapping.insert(task, .passUnretained(cell)) }
        wrapping.remove(last[0])
        #expect(wrapping.find(last[1]) != nil && wrapping.find(atZero) != nil && wrapping.find(last[0]) == nil)
        wrapping.remove(last[1])
        #expect(wrapping.find(atZero) != nil && wrapping.count == 1)
        // And not across it when the home lies after the gap: removing the
        // last slot's key must leave two keys at home in slot 0 in place.
        let zeros = Array(candidates.filter { home($0) == 0 }.prefix(2))
        var behind = OwnerTable()
        for task in [last[0]] + zeros { behind.insert(task, .passUnretained(cell)) }
        behind.remove(last[0])
        #expect(zeros.allSatisfy { behind.find($0) != nil } && behind.count == 2)
    }

    @Test("the owner table agrees with a dictionary through random inserts and removals of colliding tasks")
    func ownerTableModel() {
        let cells = (0..<3).map {
            ProcessCell(id: UInt32($0 + 1), serial: 0, origin: SpawnOrigin(parent: nil, file: #fileID, line: 1, function: "f()"))
        }
        var table = OwnerTable()
        var model: [UInt: Int] = [:]
        // Seeded, so that a failure can be replayed.
        var rng = SplitMix64(seed: 0xE3B3)
        // 2,000 distinct tasks: filled mostly (the table grows past a
        // thousand slots), then emptied mostly (it shrinks), entries moved
        // back all along as others are removed.
        let tasks = (1...2_000).map { UInt($0) * 16 }
        for step in 0..<24_000 {
            let task = tasks.randomElement(using: &rng)!
            let removing = Double.random(in: 0..<1, using: &rng) < (step < 12_000 ? 0.25 : 0.95)
            if removing {
                table.remove(task)
                model[task] = nil
            } else {
                let value = Int.random(in: 0..<cells.count, using: &rng)
                table.insert(task, .passUnretained(cells[value]))
                model[task] = value
            }
            if step % 97 == 0 {
                #expect(table.count == model.count)
                let agrees = tasks.allSatisfy { task in
                    table.find(task)?.toOpaque() == model[task].map { Unmanaged.passUnretained(cells[$0]).toOpaque() }
                }
                #expect(agrees, "step \(step)")
                if !agrees { return }
            }
        }
        for task in tasks { table.remove(task) }
        #expect(table.count == 0 && tasks.allSatisfy { table.find($0) == nil })
    }
}

/// A small seeded generator (SplitMix64), for tests that replay.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
