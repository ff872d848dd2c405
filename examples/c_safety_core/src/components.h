/* components.h — the three components of profile bmu_safety_core as synchronous blocks.
 *
 * Each component is configure(parameters) / reset() / step(t, inputs) -> outputs, the
 * shape every OBSA component has (spec/interfaces/<id>.yaml). A component keeps its state
 * in static variables: the program serves one instance of each.
 */
#ifndef COMPONENTS_H
#define COMPONENTS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define TIME_EPS_S 1e-9 /* slack on "at least the delay": times are sums of float steps */

typedef struct {
    const char *id;
    const char *const *inputs; /* the input signals, NULL-terminated */
    /* false with the reason in `why` when the parameters are refused */
    bool (*configure)(const cJSON *parameters, char *why, size_t why_len);
    void (*reset)(void);
    /* the outputs record; `inputs` holds every input signal */
    cJSON *(*step)(double t, const cJSON *inputs);
} component_t;

extern const component_t safety_supervisor;
extern const component_t contactor_manager;
extern const component_t diagnostics;

/* A condition that counts once present for `delay_s`, measured from its first sample. */
typedef struct {
    double delay_s;
    double since_s;
    bool running;
} debounce_t;

static inline void debounce_init(debounce_t *d, double delay_s)
{
    d->delay_s = delay_s - TIME_EPS_S;
    d->running = false;
}

static inline bool debounce_update(debounce_t *d, bool present, double t)
{
    if (!present) {
        d->running = false;
        return false;
    }
    if (!d->running) {
        d->running = true;
        d->since_s = t;
    }
    return t - d->since_s >= d->delay_s;
}

#endif
