import DequeModule

/// A worker's run queue, beside its next and later slots (see `Worker`):
/// jobs that wait their turn, and new processes that have not run yet.
///
/// Among new processes the newest generation goes first: those spawned
/// since the queue last gave out a job run in the order they were spawned,
/// ahead of the new processes spawned before them. A process that spawns
/// children and waits for their answers (a tree of them, a parallel map)
/// so sees them run depth first, in the order a recursive function would
/// visit them: each subtree is done before the next begins, few processes
/// live at once, and their memory is reused while it is still in the
/// caches. Oldest first, as the BEAM runs them, a tree of a million
/// processes lives whole before its leaves answer: skynet peaked at 600 MB
/// and spent a third of its time in page faults on fresh memory.
///
/// Waiting jobs (processes that yield, or were woken and then displaced
/// from the next slot) keep their order of arrival, and take turns with new
/// processes: while both kinds are queued, every other job is the oldest
/// waiting one. A process woken by a message so waits for about twice the
/// jobs ahead of it, however many new processes come, and a chain of
/// processes each spawning the next cannot starve it. Every
/// ``deepestTurnInterval``-th job is the deepest new process (of the oldest
/// generation), so that one beneath such a chain runs too: a new process
/// with b others beneath it runs within interval × (b + 1) jobs taken.
///
/// A pure value, under the worker's queue lock; generic so that the tests
/// can drive it with plain values.
struct RunQueue<Job> {
    /// Jobs waiting their turn, oldest first.
    private var waiting = Deque<Job>()
    /// New processes of earlier generations, oldest first: they run from
    /// the end, where each generation goes in reverse order.
    private var unstarted = Deque<Job>()
    /// The newest generation of new processes, in the order they were
    /// spawned: moved onto `unstarted` when the next job is taken.
    private var newest: [Job] = []
    /// Jobs taken, counted to give the deepest new process its turns.
    private var taken: UInt32 = 0
    /// The last job taken was a new process: a waiting job goes next.
    private var waitingGoesNext = false

    /// How often (in jobs taken) the deepest new process goes first.
    static var deepestTurnInterval: UInt32 { 64 }

    var count: Int { waiting.count + unstarted.count + newest.count }

    var isEmpty: Bool { waiting.isEmpty && unstarted.isEmpty && newest.isEmpty }

    /// Queues a job to run after those already waiting.
    mutating func append(_ job: Job) {
        waiting.append(job)
    }

    /// Queues a new process, in the newest generation (see above).
    mutating func appendNew(_ job: Job) {
        newest.append(job)
    }

    /// Ends the newest generation: its first process goes on top.
    private mutating func stackNewest() {
        guard !newest.isEmpty else { return }
        unstarted.append(contentsOf: newest.reversed())
        newest.removeAll(keepingCapacity: true)
    }

    /// The job to run next: the deepest new process on its turn (see
    /// above); else the oldest waiting job if the last job was a new
    /// process, or if no new process is queued; else the first process of
    /// the newest generation.
    mutating func take() -> Job? {
        // Only jobs taken count: a thief may have emptied the queue.
        guard !isEmpty else { return nil }
        taken &+= 1
        stackNewest()
        if taken % Self.deepestTurnInterval == 0, let deepest = unstarted.popFirst() { return deepest }
        if !waiting.isEmpty && (waitingGoesNext || unstarted.isEmpty) {
            waitingGoesNext = false
            return waiting.popFirst()
        }
        waitingGoesNext = true
        return unstarted.popLast()
    }

    /// Takes half the jobs (rounded up), for a thief: the older half of the
    /// waiting jobs, then as many of the deepest new processes as make up
    /// the half. Those, of the oldest generations, are the roots of the
    /// largest subtrees, the most work to move for one steal.
    mutating func takeHalf() -> RunQueue {
        stackNewest()
        let total = (count + 1) / 2
        var half = RunQueue()
        half.waiting.append(contentsOf: waiting.prefix((waiting.count + 1) / 2))
        waiting.removeFirst(half.waiting.count)
        half.unstarted.append(contentsOf: unstarted.prefix(total - half.waiting.count))
        unstarted.removeFirst(half.unstarted.count)
        return half
    }

    /// Adds `other`'s jobs: its waiting jobs after this queue's, its new
    /// processes on top of this queue's.
    mutating func append(contentsOf other: consuming RunQueue) {
        stackNewest()
        other.stackNewest()
        waiting.append(contentsOf: other.waiting)
        unstarted.append(contentsOf: other.unstarted)
    }
}
