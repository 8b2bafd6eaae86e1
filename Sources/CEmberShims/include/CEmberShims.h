#ifndef CEMBER_SHIMS_H
#define CEMBER_SHIMS_H

// Thread-local slots used by Ember's scheduler. Swift has no native
// thread-local storage, and pthread_getspecific costs a call on every send;
// these compile to a single %fs-relative load.

/// The scheduler worker running on this thread, or NULL on foreign threads.
/// Set once by the worker thread itself before its run loop starts.
extern __thread void *_Nullable ember_tls_worker __attribute__((tls_model("initial-exec")));

static inline void *_Nullable ember_current_worker(void) { return ember_tls_worker; }
static inline void ember_set_current_worker(void *_Nullable worker) { ember_tls_worker = worker; }

/// The address of the job (for a task job, the task) this worker thread is
/// running: lets the runtime tell a process's own task from its child tasks
/// without asking the Swift runtime. 0 on threads that are not workers.
extern __thread unsigned long ember_tls_current_job __attribute__((tls_model("initial-exec")));

/// The process whose task is the running job, once looked up (see
/// ProcessCell.current); cleared whenever the worker starts another job.
extern __thread void *_Nullable ember_tls_current_process __attribute__((tls_model("initial-exec")));

static inline unsigned long ember_current_job(void) { return ember_tls_current_job; }
static inline void ember_set_current_job(unsigned long job) {
    ember_tls_current_job = job;
    ember_tls_current_process = 0;
}
static inline void *_Nullable ember_current_process(void) { return ember_tls_current_process; }
static inline void ember_set_current_process(void *_Nullable process) { ember_tls_current_process = process; }

/// Set just before a process yields or spawns, so that the scheduler puts the
/// job it is about to be handed at the back of the run queue instead of in the
/// "run next" slot (which is for processes woken by a message).
extern __thread int ember_tls_enqueue_at_back __attribute__((tls_model("initial-exec")));

static inline int ember_take_enqueue_at_back(void) { int y = ember_tls_enqueue_at_back; ember_tls_enqueue_at_back = 0; return y; }
static inline void ember_set_enqueue_at_back(void) { ember_tls_enqueue_at_back = 1; }

/// The exit propagation running on this thread, if any: exits that cascade
/// through links are queued here instead of recursing (a chain of 100,000
/// linked processes must not overflow the stack).
extern __thread void *_Nullable ember_tls_propagation __attribute__((tls_model("initial-exec")));

static inline void *_Nullable ember_current_propagation(void) { return ember_tls_propagation; }
static inline void ember_set_current_propagation(void *_Nullable p) { ember_tls_propagation = p; }

static inline void ember_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
