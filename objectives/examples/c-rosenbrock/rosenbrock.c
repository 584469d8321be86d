/*
 * Example objective for les, written in C: the Rosenbrock function
 *
 *   f(x) = sum_{i=1}^{d-1} [ 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 ]
 *
 * on [-2.048, 2.048]^d, minimum 0 at x = (1, ..., 1). Params: {"dim": d} (default 2, d >= 2).
 *
 * Build (from the repository root):
 *
 *   cc -std=c11 -O2 -fPIC -shared -I objectives/abi/include \
 *      -o librosenbrock.so objectives/examples/c-rosenbrock/rosenbrock.c
 *
 * Use:
 *
 *   objective:
 *     library: ./librosenbrock.so
 *     params: { dim: 4 }
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "les_objective.h"

/* The message of the last failure, one per thread as the ABI requires. */
static _Thread_local char last_error[256];

static int32_t fail(const char *message) {
    snprintf(last_error, sizeof last_error, "%s", message);
    return LES_OBJECTIVE_ERROR;
}

typedef struct {
    uint32_t dim;
    double *lower; /* dim entries */
    double *upper; /* dim entries */
} Rosenbrock;

static int32_t eval_grad(void *state, const double *x, double *y, double *g) {
    const Rosenbrock *r = state;
    double sum = 0.0;
    if (g) {
        memset(g, 0, r->dim * sizeof *g);
    }
    for (uint32_t i = 0; i + 1 < r->dim; i++) {
        double a = x[i + 1] - x[i] * x[i];
        double b = 1.0 - x[i];
        sum += 100.0 * a * a + b * b;
        if (g) {
            g[i] += -400.0 * a * x[i] - 2.0 * b;
            g[i + 1] += 200.0 * a;
        }
    }
    *y = sum;
    return LES_OBJECTIVE_OK;
}

static int32_t eval(void *state, const double *x, double *y) {
    return eval_grad(state, x, y, NULL);
}

static void destroy(void *state) {
    Rosenbrock *r = state;
    free(r->lower);
    free(r->upper);
    free(r);
}

/* A deliberately small reader for {"dim": N}; a real library would use a JSON parser. */
static int32_t parse_dim(const char *json, long *dim) {
    const char *key = strstr(json, "\"dim\"");
    *dim = 2;
    if (!key) {
        return LES_OBJECTIVE_OK;
    }
    const char *p = key + strlen("\"dim\"");
    while (isspace((unsigned char)*p) || *p == ':') {
        p++;
    }
    char *end;
    *dim = strtol(p, &end, 10);
    if (end == p || *dim < 2 || *dim > 100000) {
        return fail("params.dim must be a whole number between 2 and 100000");
    }
    return LES_OBJECTIVE_OK;
}

LES_OBJECTIVE_EXPORT uint32_t les_objective_abi_version(void) {
    return LES_OBJECTIVE_ABI_VERSION;
}

LES_OBJECTIVE_EXPORT int32_t les_objective_create(const char *params_json, LesObjective *out) {
    long dim;
    if (parse_dim(params_json ? params_json : "{}", &dim) != LES_OBJECTIVE_OK) {
        return LES_OBJECTIVE_ERROR;
    }
    Rosenbrock *r = calloc(1, sizeof *r);
    if (!r) {
        return fail("out of memory");
    }
    r->dim = (uint32_t)dim;
    r->lower = malloc(r->dim * sizeof(double));
    r->upper = malloc(r->dim * sizeof(double));
    if (!r->lower || !r->upper) {
        destroy(r);
        return fail("out of memory");
    }
    for (uint32_t i = 0; i < r->dim; i++) {
        r->lower[i] = -2.048;
        r->upper[i] = 2.048;
    }
    out->abi_version = LES_OBJECTIVE_ABI_VERSION;
    out->dim = r->dim;
    out->lower = r->lower;
    out->upper = r->upper;
    out->state = r;
    out->eval = eval;
    out->eval_grad = eval_grad;
    out->destroy = destroy;
    return LES_OBJECTIVE_OK;
}

LES_OBJECTIVE_EXPORT const char *les_objective_last_error(void) {
    return last_error;
}
