#include "CEmberShims.h"

__thread void *ember_tls_worker = 0;
__thread int ember_tls_enqueue_at_back = 0;
__thread void *ember_tls_propagation = 0;
__thread unsigned long ember_tls_current_job = 0;
__thread void *ember_tls_current_process = 0;
