#include "CEmberShims.h"

__thread void *ember_tls_worker = 0;
__thread int ember_tls_enqueue_at_back = 0;
__thread void *ember_tls_propagation = 0;

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
