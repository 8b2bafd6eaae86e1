#ifndef CEMBER_SHIMS_H
#define CEMBER_SHIMS_H

#include <stdint.h>

// Thread-local slots used by Ember's scheduler. Swift has no native
// thread-local storage, and pthread_getspecific costs a call on every send;
// these compile to a single %fs-relative load.

/// The scheduler worker running on this thread, or NULL on foreign threads.
/// Set once by the worker thread itself before its run loop starts.
extern __thread void *_Nullable ember_tls_worker __attribute__((tls_model("initial-exec")));

static inline void *_Nullable ember_current_worker(void) { return ember_tls_worker; }
static inline void ember_set_current_worker(void *_Nullable worker) { ember_tls_worker = worker; }

/// Set just before a process spawns another, so that the scheduler puts the
/// job it is about to be handed in the run queue, as a new process's, instead
/// of in the "run next" slot (which is for processes woken by a message).
extern __thread int ember_tls_enqueue_new __attribute__((tls_model("initial-exec")));

static inline int ember_take_enqueue_new(void) { int y = ember_tls_enqueue_new; ember_tls_enqueue_new = 0; return y; }
static inline void ember_set_enqueue_new(void) { ember_tls_enqueue_new = 1; }

/// Set around the start of a dormant process's new task, so that the
/// scheduler knows the job it is about to be handed is a process's: only
/// those may run in a hand-off. (A parked process's job is put on the
/// scheduler directly, as a process's: see ParkingLot.swift.)
extern __thread int ember_tls_enqueue_process __attribute__((tls_model("initial-exec")));

static inline int ember_take_enqueue_process(void) { int y = ember_tls_enqueue_process; ember_tls_enqueue_process = 0; return y; }
static inline void ember_set_enqueue_process(void) { ember_tls_enqueue_process = 1; }

/// What parks on this thread (see ParkingLot.swift), set just before the
/// process hops to the parking executor and taken by that executor's
/// enqueue, which the hop calls on this same thread.
typedef enum {
    ember_parking_none = 0,
    /// A receive: `ember_tls_parking_cell` is its process's cell,
    /// unretained, `ember_tls_parking_token` its timeout's token.
    ember_parking_receive = 1,
    /// A server lingering in its worker's later slot.
    ember_parking_lingering = 2,
    /// A process yielding to the back of its worker's queue.
    ember_parking_yielding = 3,
} ember_parking_kind;

extern __thread int ember_tls_parking_kind __attribute__((tls_model("initial-exec")));
extern __thread void *_Nullable ember_tls_parking_cell __attribute__((tls_model("initial-exec")));
extern __thread unsigned long long ember_tls_parking_token __attribute__((tls_model("initial-exec")));

static inline void ember_park_receive(void *_Nonnull cell, unsigned long long token) {
    ember_tls_parking_kind = ember_parking_receive;
    ember_tls_parking_cell = cell;
    ember_tls_parking_token = token;
}
static inline void ember_park(ember_parking_kind kind) { ember_tls_parking_kind = kind; }
/// A note was set on this thread and not taken (0 if none is pending).
static inline int ember_parking_pending(void) { return ember_tls_parking_kind; }
static inline ember_parking_kind ember_take_parking(void *_Nullable *_Nonnull cell, unsigned long long *_Nonnull token) {
    int kind = ember_tls_parking_kind;
    ember_tls_parking_kind = ember_parking_none;
    *cell = ember_tls_parking_cell;
    *token = ember_tls_parking_token;
    return (ember_parking_kind)kind;
}

/// The exit propagation running on this thread, if any: exits that cascade
/// through links are queued here instead of recursing (a chain of 100,000
/// linked processes must not overflow the stack).
extern __thread void *_Nullable ember_tls_propagation __attribute__((tls_model("initial-exec")));

static inline void *_Nullable ember_current_propagation(void) { return ember_tls_propagation; }
static inline void ember_set_current_propagation(void *_Nullable p) { ember_tls_propagation = p; }

/// The Swift task running on this thread, or NULL: the concurrency runtime's
/// own entry point (exported, ABI-stable, used by compiled Swift code), called
/// directly because `withUnsafeCurrentTask` costs a closure call on every send.
extern void *_Nullable swift_task_getCurrent(void) __attribute__((swiftcall));

static inline unsigned long ember_current_task(void) { return (unsigned long)swift_task_getCurrent(); }

static inline void ember_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// The contended paths of `FutexLock` (Sources/Ember/Scheduler/FutexLock.swift):
/// `word` is its lock word, 0 unlocked, 1 locked, 2 locked with sleepers.
/// Waits in the kernel until the word is handed over, then holds it (as 2).
void ember_futex_lock_contended(unsigned int *_Nonnull word);
/// Wakes one thread sleeping on `word`.
void ember_futex_wake_one(unsigned int *_Nonnull word);

/// Runs `job` on the generic executor, the way the runtime's own global
/// executor runs its jobs: with no task executor in effect but the job's own
/// preference, if it has one.
void ember_run_job_on_generic_executor(void *_Nonnull job);

/// Makes Ember's scheduler the global concurrent executor: every job the
/// Swift runtime would hand to its default global executor (tasks with no
/// executor preference, continuations resumed there) goes to `enqueue`
/// instead, through the runtime's `swift_task_enqueueGlobal_hook`. Jobs the
/// runtime delays through its delay hooks go to `enqueueAfter` with their
/// delay in nanoseconds. Called once, before the first process starts.
/// Returns 0, installing nothing, if another global executor hook is in place.
int ember_install_global_executor(void (*_Nonnull enqueue)(void *_Nonnull job),
                                  void (*_Nonnull enqueueAfter)(unsigned long long nanoseconds, void *_Nonnull job));

/// Asks the CPU to bring `lines` cache lines from `offset` bytes past
/// `address` on into its caches, for a read soon. A hint: a prefetch never
/// faults, whatever the address (the sum is taken as an integer).
static inline void ember_prefetch(const void *_Nonnull address, unsigned long offset, int lines) {
    uintptr_t start = (uintptr_t)address + offset;
    for (int line = 0; line < lines; line++) __builtin_prefetch((const void *)(start + 64 * (uintptr_t)line), 0, 3);
}

#endif
