/* A library objective that crashes (NULL dereference) when x0 > 0.6, otherwise sum of x_i^2:
 * the isolation tests of tests/isolation.rs and python/tests/test_library.py. */
#include <stdio.h>
#include "les_objective.h"
static double lower[2] = {0.0, 0.0}, upper[2] = {1.0, 1.0};
static int32_t eval(void *state, const double *x, double *y) {
    (void)state;
    if (x[0] > 0.6) { fprintf(stderr, "crashy: x0 = %g is too large\n", x[0]); fflush(stderr); *y = *(volatile double *)0; }
    *y = x[0] * x[0] + x[1] * x[1];
    return 0;
}
LES_OBJECTIVE_EXPORT uint32_t les_objective_abi_version(void) { return LES_OBJECTIVE_ABI_VERSION; }
LES_OBJECTIVE_EXPORT int32_t les_objective_create(const char *params, LesObjective *out) {
    (void)params;
    out->abi_version = LES_OBJECTIVE_ABI_VERSION; out->dim = 2; out->lower = lower; out->upper = upper;
    out->state = 0; out->eval = eval; out->eval_grad = 0; out->destroy = 0;
    return 0;
}
LES_OBJECTIVE_EXPORT const char *les_objective_last_error(void) { return 0; }
