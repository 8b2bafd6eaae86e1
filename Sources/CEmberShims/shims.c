#include "CEmberShims.h"

__thread void *ember_tls_worker = 0;
__thread int ember_tls_enqueue_new = 0;
__thread int ember_tls_enqueue_process = 0;
__thread void *ember_tls_propagation = 0;
__thread int ember_tls_parking_kind = 0;
__thread void *ember_tls_parking_cell = 0;
__thread unsigned long long ember_tls_parking_token = 0;

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif
#include <sched.h>

// The lock of Drepper's "Futexes Are Tricky" (mutex 3), after a short spin:
// a thread that finds the word taken marks it 2 (sleepers) before it sleeps,
// so that the unlocking thread knows to wake one.
void ember_futex_lock_contended(unsigned int *word) {
    for (int spin = 0; spin < 64; spin++) {
        ember_cpu_relax();
        unsigned int expected = 0;
        if (__atomic_load_n(word, __ATOMIC_RELAXED) == 0 &&
            __atomic_compare_exchange_n(word, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            return;
        }
    }
    while (__atomic_exchange_n(word, 2, __ATOMIC_ACQUIRE) != 0) {
#if defined(__linux__)
        syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
#else
        sched_yield();
#endif
    }
}

void ember_futex_wake_one(unsigned int *word) {
#if defined(__linux__)
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
#else
    (void)word;
#endif
}

// The concurrency runtime's hooks for the global executor (declared in the
// Swift runtime's include/swift/Runtime/Concurrency.h, exported variables
// that the runtime checks before using its own global executor). They take
// the swiftcall convention; `original` is the runtime's own implementation,
// which Ember does not call: every global job is Ember's to run.
typedef void *EmberJob;
extern __attribute__((swiftcall)) void (*swift_task_enqueueGlobal_hook)(EmberJob job, void *original);
extern __attribute__((swiftcall)) void (*swift_task_enqueueGlobalWithDelay_hook)(unsigned long long delay, EmberJob job, void *original);
extern __attribute__((swiftcall)) void (*swift_task_enqueueGlobalWithDeadline_hook)(
    long long sec, long long nsec, long long tsec, long long tnsec, int clock, EmberJob job, void *original);

static void (*ember_global_enqueue)(void *job);
static void (*ember_global_enqueue_after)(unsigned long long nanoseconds, void *job);

// The targets are stored before the hooks are published with release
// stores; the acquire fence orders this thread's reads of them after its
// read of the hook (a thread that calls a hook has read it).
__attribute__((swiftcall)) static void ember_enqueue_global(EmberJob job, void *original) {
    (void)original;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    ember_global_enqueue(job);
}

__attribute__((swiftcall)) static void ember_enqueue_global_with_delay(unsigned long long delay, EmberJob job, void *original) {
    (void)original;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    ember_global_enqueue_after(delay, job);
}

// The runtime's clock reading, for the clock a deadline is on (its
// swift_clock_id: 1 continuous, 2 suspending), exported by the Swift runtime.
extern __attribute__((swiftcall)) void swift_get_time(long long *seconds, long long *nanoseconds, int clock);

// A deadline becomes a delay from now on its own clock. The tolerance
// (tsec, tnsec) is not needed: Ember's timers fire on time.
__attribute__((swiftcall)) static void ember_enqueue_global_with_deadline(
    long long sec, long long nsec, long long tsec, long long tnsec, int clock, EmberJob job, void *original) {
    (void)tsec; (void)tnsec; (void)original;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    long long nowSeconds = 0, nowNanoseconds = 0;
    swift_get_time(&nowSeconds, &nowNanoseconds, clock);
    // In whole seconds first, so that a far deadline saturates instead of
    // overflowing (a year of delay is as good as for ever here).
    long long seconds = sec - nowSeconds;
    unsigned long long delay;
    if (seconds < 0) delay = 0;
    else if (seconds > 365LL * 24 * 3600) delay = 365ULL * 24 * 3600 * 1000000000ULL;
    else {
        long long delta = seconds * 1000000000LL + (nsec - nowNanoseconds);
        delay = delta > 0 ? (unsigned long long)delta : 0;
    }
    ember_global_enqueue_after(delay, job);
}

// The runtime's entry point for running a job (what UnownedJob.runSynchronously
// calls), with its executor argument: a SerialExecutorRef, two words, both 0
// for the generic executor.
typedef struct { void *identity; unsigned long implementation; } EmberSerialExecutorRef;
extern __attribute__((swiftcall)) void swift_job_run(EmberJob job, EmberSerialExecutorRef executor);

void ember_run_job_on_generic_executor(void *job) {
    EmberSerialExecutorRef generic = {0, 0};
    swift_job_run(job, generic);
}

int ember_install_global_executor(void (*enqueue)(void *job),
                                  void (*enqueueAfter)(unsigned long long nanoseconds, void *job)) {
    // Another global executor (some other library's) is left in place.
    if (__atomic_load_n(&swift_task_enqueueGlobal_hook, __ATOMIC_ACQUIRE) != 0) return 0;
    ember_global_enqueue = enqueue;
    ember_global_enqueue_after = enqueueAfter;
    __atomic_store_n(&swift_task_enqueueGlobalWithDelay_hook, ember_enqueue_global_with_delay, __ATOMIC_RELEASE);
    __atomic_store_n(&swift_task_enqueueGlobalWithDeadline_hook, ember_enqueue_global_with_deadline, __ATOMIC_RELEASE);
    __atomic_store_n(&swift_task_enqueueGlobal_hook, ember_enqueue_global, __ATOMIC_RELEASE);
    return 1;
}

// Task frames sized, not slabbed. Swift's task allocator gives a task a 1 KB
// slab at its first frame, so each process blocked in receive would hold a
// kilobyte where its frames need a few hundred bytes. The runtime offers one
// switch, SWIFT_DEBUG_ENABLE_TASK_SLAB_ALLOCATOR=0 (frames from malloc, each
// its own size). It reads its whole environment once, at the first use of any
// of its settings: in a statically linked program nothing uses one before
// this constructor (priority 101 runs before the runtime's own initializers),
// in a dynamically linked one the runtime library's initializers already have,
// and this changes nothing. A value the program was started with is kept.
//
// The environment is changed only while the runtime reads it: setenv moves
// `environ` to the heap, and the Swift runtime finds argv on Linux by walking
// back from the original `environ`, so the original array is put back (the
// copy setenv made stays allocated, a few hundred bytes).
#if defined(__linux__)
#include <stdlib.h>
#include <stddef.h>

extern char **environ;
extern void *_Nonnull swift_task_alloc(size_t size) __attribute__((swiftcall));
extern void swift_task_dealloc(void *_Nonnull ptr) __attribute__((swiftcall));

__attribute__((constructor(101))) static void ember_prefer_sized_task_frames(void) {
    static const char name[] = "SWIFT_DEBUG_ENABLE_TASK_SLAB_ALLOCATOR";
    if (getenv(name) != NULL) return;
    char **original = environ;
    if (setenv(name, "0", 0) != 0) return;
    // Outside a task, this allocates from the runtime's fallback allocator,
    // which reads the setting (and the rest of the runtime's environment)
    // and keeps it for the program's life.
    swift_task_dealloc(swift_task_alloc(16));
    environ = original;
}
#endif
