/// A process's links, monitors (both ways), call aliases and registered name.
///
/// Most processes have none, so ``ProcessState`` keeps them out of line (see
/// ``RelationsStorage``). A collection emptied here is replaced by a fresh
/// empty one: an emptied Swift collection keeps its storage.
struct ProcessRelations {
    var links: Set<Pid> = []
    /// Monitors others hold on this process.
    var monitoredBy: SmallMap<Reference, Pid> = [:]
    /// Monitors this process holds on others.
    var monitoring: SmallMap<Reference, Pid> = [:]
    /// References of calls awaiting a reply (Erlang's aliases): a reply whose
    /// call has timed out or been abandoned is dropped, not left in the mailbox.
    var aliases: Set<Reference> = []
    var name: Atom?

    var isEmpty: Bool {
        links.isEmpty && monitoredBy.isEmpty && monitoring.isEmpty && aliases.isEmpty && name == nil
    }

    /// Removes a link. Returns false if there was none.
    mutating func removeLink(_ pid: Pid) -> Bool {
        guard links.remove(pid) != nil else { return false }
        if links.isEmpty { links = [] }
        return true
    }

    /// Removes an alias. Returns false if it was not active.
    mutating func removeAlias(_ ref: Reference) -> Bool {
        guard aliases.remove(ref) != nil else { return false }
        if aliases.isEmpty { aliases = [] }
        return true
    }

    /// Forgets a monitor another process holds on this one.
    mutating func removeMonitor(_ ref: Reference) {
        monitoredBy[ref] = nil
        if monitoredBy.isEmpty { monitoredBy = [:] }
    }

    /// Forgets a monitor this process holds. Returns its target, if it was held.
    mutating func stopMonitoring(_ ref: Reference) -> Pid? {
        defer { if monitoring.isEmpty { monitoring = [:] } }
        return monitoring.removeValue(forKey: ref)
    }
}

/// ``ProcessRelations`` out of line, with value semantics: nothing is
/// allocated while there are none (8 bytes in every process instead of 48),
/// a box copied on write holds them while there are some, and it is released
/// as soon as the last one goes.
struct RelationsStorage {
    private final class Box {
        // Not checked dynamically: the box is changed only when uniquely
        // referenced (the changing methods below copy it on write), through the
        // storage value that holds it, whose exclusivity Swift enforces statically.
        @exclusivity(unchecked) var relations: ProcessRelations
        init(_ relations: ProcessRelations) { self.relations = relations }
    }

    private var box: Box?

    /// The relations, empty if there are none.
    var current: ProcessRelations { box?.relations ?? ProcessRelations() }

    /// Changes the relations, making room for them if there were none.
    mutating func change<Result>(_ body: (inout ProcessRelations) -> Result) -> Result {
        if box == nil { box = Box(ProcessRelations()) }
        return changeExisting(body)!
    }

    /// Changes the relations if there are any; nil (and nothing allocated)
    /// if there are none. For removals.
    mutating func changeExisting<Result>(_ body: (inout ProcessRelations) -> Result) -> Result? {
        if box == nil { return nil }
        if !isKnownUniquelyReferenced(&box) { box = box.map { Box($0.relations) } }
        guard let unique = box else { return nil }
        let result = body(&unique.relations)
        if unique.relations.isEmpty { box = nil }
        return result
    }

    /// Changes the relations if there are any, keeping their storage even if
    /// they become empty: for a server whose callers' monitors come and go on
    /// every call. ``releaseIfEmpty()`` lets it go.
    mutating func changeKeepingStorage(_ body: (inout ProcessRelations) -> Void) {
        guard box != nil else { return }
        if !isKnownUniquelyReferenced(&box) { box = box.map { Box($0.relations) } }
        box.map { body(&$0.relations) }
    }

    /// Releases the storage if there are no relations.
    mutating func releaseIfEmpty() {
        if box?.relations.isEmpty == true { box = nil }
    }

    /// Takes every relation, leaving none; nil if there were none.
    mutating func takeAll() -> ProcessRelations? {
        defer { box = nil }
        return box?.relations
    }
}
