#include "CEmberShims.h"

__thread void *ember_tls_worker = 0;
__thread int ember_tls_enqueue_at_back = 0;
__thread void *ember_tls_propagation = 0;
