import Testing

@testable import Ember

// MARK: The tables, synchronously

@Suite("Registry: tables")
struct RegistryTableTests {
    let alive = Pid(node: 0, id: 901, serial: 0, creation: 0)
    let dead = Pid(node: 0, id: 902, serial: 0, creation: 0)

    @Test("a unique key table refuses a live holder's key and replaces a dead holder's entry")
    func uniqueInsertion() {
        var table = KeyTable()
        let key = RegistryKey("k")
        let isAlive = { (pid: Pid) in pid == self.alive }
        let first = table.insertUnique(key, RegistryEntry(pid: dead, value: 1, id: 1), isAlive: isAlive)
        let second = table.insertUnique(key, RegistryEntry(pid: alive, value: 2, id: 2), isAlive: isAlive)
        #expect(first == .inserted && second == .inserted)
        #expect(table.lookup(key).map(\.id) == [2])
        #expect(table.count == 1)
        let third = table.insertUnique(key, RegistryEntry(pid: dead, value: 3, id: 3), isAlive: isAlive)
        #expect(third == .taken(by: alive))
        #expect(table.count == 1)
        // The dead holder's late cleanup removes nothing of the new holder's.
        let lateById = table.remove(key, id: 1)
        let lateByPid = table.remove(key, pid: dead)
        #expect(!lateById && lateByPid.isEmpty)
        #expect(table.lookup(key).map(\.pid) == [alive])
    }

    @Test("a duplicate key table removes exactly the registrations asked for")
    func duplicateRemoval() {
        var table = KeyTable()
        let key = RegistryKey("k")
        for id in UInt64(1)...3 { table.insertDuplicate(key, RegistryEntry(pid: alive, value: Int(id), id: id)) }
        table.insertDuplicate(key, RegistryEntry(pid: dead, value: 4, id: 4))
        #expect(table.count == 4)
        let byId = table.remove(key, id: 2)
        #expect(byId && table.lookup(key).map(\.id) == [1, 3, 4])
        let matching = table.remove(key, pid: alive, where: { $0.value as? Int == 3 })
        #expect(matching.map(\.id) == [3])
        let updated = table.update(key, id: 1, value: 10)
        #expect(updated && table.lookup(key).first?.value as? Int == 10)
        let updatedGone = table.update(key, id: 2, value: 0)
        #expect(!updatedGone)
        let alives = table.remove(key, pid: alive)
        let deads = table.remove(key, pid: dead)
        #expect(alives.map(\.id) == [1] && deads.map(\.id) == [4])
        #expect(table.count == 0)
        #expect(table.entries.isEmpty)
    }

    @Test("a pid table says whether a process keeps registrations after a removal")
    func pidTable() {
        var table = PidTable()
        table.add(alive, PidEntry(key: RegistryKey("a"), keyPartition: 0, id: 1))
        table.add(alive, PidEntry(key: RegistryKey("b"), keyPartition: 1, id: 2))
        let keepsOne = table.remove(alive, ids: [1])
        #expect(keepsOne && table.lookup(alive).map(\.id) == [2])
        let keepsNone = table.remove(alive, ids: [2])
        #expect(!keepsNone && table.entries.isEmpty)
        let unknown = table.remove(dead, ids: [1])
        #expect(!unknown)
        table.add(dead, PidEntry(key: RegistryKey("c"), keyPartition: 0, id: 3))
        let taken = table.take(dead)
        let again = table.take(dead)
        #expect(taken.map(\.key) == [RegistryKey("c")] && again.isEmpty)
    }

    @Test("a storage refusing a unique registration takes back its pid entry")
    func storageRollback() async throws {
        try await withProcess {
            let storage = RegistryStorage(kind: .unique, partitionCount: 3)
            let me = try Pid.current
            let other = idleProcess()
            #expect(isInserted(storage.insert(RegistryKey("k"), pid: me, value: 1)))
            #expect(storage.insert(RegistryKey("k"), pid: other, value: 2) == .taken(by: me))
            #expect(!storage.hasRegistrations(other))
            #expect(storage.hasRegistrations(me))
            #expect(storage.count == 1)
            #expect(inconsistencies(storage) == [])
            storage.removeAll(of: me)
            #expect(storage.count == 0 && !storage.hasRegistrations(me))
            #expect(inconsistencies(storage) == [])
            send(other, Atom("stop"))
        }
    }
}
