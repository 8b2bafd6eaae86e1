import Dispatch
import Testing

@testable import Ember

/// A process, or any task, that prefers a task executor of its own goes on
/// there after it waits in Ember (a receive, a yield): a waiting process is
/// parked on Ember's side (see `ParkingLot`), and must not come back on
/// Ember's threads while the runtime believes it on its own executor.
@Suite("Task executor preference")
struct ExecutorPreferenceTests {
    /// A task executor that runs its jobs on one serial dispatch queue, and
    /// tells whether the calling code runs there.
    final class QueueExecutor: TaskExecutor {
        private let queue = DispatchQueue(label: "ember.tests.queue-executor")
        private let key = DispatchSpecificKey<Bool>()

        init() { queue.setSpecific(key: key, value: true) }

        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }

        var isCurrent: Bool { DispatchQueue.getSpecific(key: key) == true }
    }

    @Test("a process that waits in a receive inside withTaskExecutorPreference goes on on that executor")
    func receiveKeepsPreference() async throws {
        let executor = QueueExecutor()
        let placement = try await withProcess { () -> [Bool] in
            let me = try Pid.current
            let echo = spawn {
                let from = try await receive(Pid.self)
                send(from, 1)
            }
            return try await withTaskExecutorPreference(executor) {
                let before = executor.isCurrent
                send(echo, me)
                // Waits: the echo runs only once this process parks.
                let value = try await receive(Int.self)
                return [before, executor.isCurrent, value == 1]
            }
        }
        #expect(placement == [true, true, true])
    }

    @Test("a receive that times out inside withTaskExecutorPreference goes on on that executor")
    func timeoutKeepsPreference() async throws {
        let executor = QueueExecutor()
        let placement = try await withProcess { () -> [Bool] in
            try await withTaskExecutorPreference(executor) {
                let timedOut = try await receive(Int.self, after: 5) == nil
                return [timedOut, executor.isCurrent]
            }
        }
        #expect(placement == [true, true])
    }

    @Test("yieldNow on the main actor, off Ember's threads, goes on on the main actor")
    @MainActor
    func yieldKeepsMainActor() async {
        // The main actor's jobs never run on Ember's workers.
        let before = Worker.withCurrent { _ in true } ?? false
        await yieldNow()
        MainActor.assertIsolated()
        let after = Worker.withCurrent { _ in true } ?? false
        #expect([before, after] == [false, false])
    }

    @Test("yieldNow in a task that prefers another executor goes on on that executor")
    func yieldKeepsPreference() async throws {
        let executor = QueueExecutor()
        let placement = await Task(executorPreference: executor) { () -> [Bool] in
            let before = executor.isCurrent
            await yieldNow()
            return [before, executor.isCurrent]
        }.value
        #expect(placement == [true, true])
    }
}
