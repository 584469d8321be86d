/*
 * les_objective.h — the C ABI of les shared-library objectives, version 1.
 *
 * A shared library becomes an objective for `les` by exporting three functions:
 *
 *   uint32_t    les_objective_abi_version(void);
 *   int32_t     les_objective_create(const char *params_json, LesObjective *out);
 *   const char *les_objective_last_error(void);
 *
 * and is named in a run config as
 *
 *   objective:
 *     library: path/to/libmyobjective.so   # relative paths resolve against the current directory
 *     params: { ... }                      # optional; handed to create as JSON (`{}` when absent)
 *     dim: 4                               # optional; checked against the dimension create reports
 *
 * Protocol
 * --------
 * 1. les calls les_objective_abi_version() before touching any other symbol. It must return
 *    LES_OBJECTIVE_ABI_VERSION of the header the library was compiled against; les refuses a
 *    library whose version differs from the one it supports.
 * 2. les calls les_objective_create(params_json, out) once per objective instance. params_json
 *    is the `params` block of the config serialized as a NUL-terminated UTF-8 JSON object. On
 *    success the library fills *out completely and returns 0 (LES_OBJECTIVE_OK). On failure it
 *    returns non-zero, leaves nothing to destroy, and les_objective_last_error() describes why.
 * 3. les calls out->eval (and out->eval_grad, if not NULL) any number of times, then
 *    out->destroy(out->state) exactly once (if destroy is not NULL). After destroy, les uses
 *    neither the state nor the lower/upper arrays again.
 * 4. Every function that returns int32_t returns 0 on success. After a non-zero status les calls
 *    les_objective_last_error() on the SAME thread, immediately, and copies the message. The
 *    returned string must stay valid until the next call into the library on that thread; a
 *    thread-local buffer is the natural implementation. NULL means "no message".
 *
 * Values
 * ------
 * - x points to `dim` doubles in the objective's own (native) coordinates, inside
 *   [lower, upper]; g points to `dim` doubles to fill with the gradient dy/dx; y points to one
 *   double. These pointers are valid only during the call: do not keep them.
 * - lower and upper point to `dim` doubles each, owned by the library, valid and unchanged until
 *   destroy. Every lower[i] < upper[i], all finite; les rejects the library otherwise.
 * - les minimizes y. A NaN or infinite y with status 0 counts as a failed evaluation that the
 *   run's `on_error` policy handles; so does a non-zero status.
 *
 * Threads
 * -------
 * - les calls eval / eval_grad of ONE objective instance from at most one thread at a time (the
 *   loader holds a lock around each call), though not always from the same thread, unless the
 *   library exports the optional
 *
 *     int32_t les_objective_thread_safe(void);
 *
 *   returning non-zero: then one instance may be evaluated from several threads at once
 *   (`workers: N` in a run with `isolate: false`). Thread safety is off unless declared.
 * - With `isolate: true` (the default) the library lives in a child process of les, one
 *   process per concurrent evaluation; a crash there fails one evaluation, not the run. Separate
 *   instances (separate create calls) may be evaluated concurrently from different threads, so
 *   state shared between instances (globals) must be protected by the library.
 * - les serializes calls to les_objective_create across the whole process.
 * - destroy is never called concurrently with eval or eval_grad of the same instance.
 *
 * Lifetime
 * --------
 * les never unloads a library: it stays loaded until the process exits, so function pointers
 * and static data stay valid.
 *
 * Rust authors: use the `export_objective!` macro of the crate `les-objective-abi` instead of
 * writing these functions by hand.
 */
#ifndef LES_OBJECTIVE_H
#define LES_OBJECTIVE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes. */
#define LES_OBJECTIVE_ABI_VERSION 1u

/* Status codes: 0 is success, any other value is a failure described by last_error. */
#define LES_OBJECTIVE_OK 0
#define LES_OBJECTIVE_ERROR 1

/* Marks the three exported functions as visible from the shared library. */
#if defined(_WIN32)
#define LES_OBJECTIVE_EXPORT __declspec(dllexport)
#else
#define LES_OBJECTIVE_EXPORT __attribute__((visibility("default")))
#endif

/* One objective instance, filled by les_objective_create. */
typedef struct LesObjective {
    uint32_t abi_version;            /* = LES_OBJECTIVE_ABI_VERSION */
    uint32_t dim;                    /* input dimension d >= 1 */
    const double *lower;             /* dim entries, owned by the library, valid until destroy */
    const double *upper;             /* dim entries, owned by the library, valid until destroy */
    void *state;                     /* passed back to eval, eval_grad and destroy; may be NULL */
    /* y = f(x). Returns 0 on success. Required. */
    int32_t (*eval)(void *state, const double *x, double *y);
    /* y = f(x) and g = grad f(x) (dim entries). Returns 0 on success. May be NULL. */
    int32_t (*eval_grad)(void *state, const double *x, double *y, double *g);
    /* Frees the state. Called once. May be NULL when there is nothing to free. */
    void (*destroy)(void *state);
} LesObjective;

/* Returns LES_OBJECTIVE_ABI_VERSION. Checked before anything else. */
LES_OBJECTIVE_EXPORT uint32_t les_objective_abi_version(void);

/* Creates an instance from the params block (a JSON object). Returns 0 on success. */
LES_OBJECTIVE_EXPORT int32_t les_objective_create(const char *params_json, LesObjective *out);

/* The message of the last non-zero status returned on the calling thread (NULL: none). */
LES_OBJECTIVE_EXPORT const char *les_objective_last_error(void);

/* Optional: non-zero when one instance may be evaluated from several threads at once (see
 * Threads above). Not exporting it means calls to one instance are serialized. */
LES_OBJECTIVE_EXPORT int32_t les_objective_thread_safe(void);

#ifdef __cplusplus
}
#endif

#endif /* LES_OBJECTIVE_H */
