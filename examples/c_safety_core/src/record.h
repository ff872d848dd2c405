/* record.h — reading a component's parameters and inputs from JSON records.
 *
 * A record is a JSON object: the "parameters" of a configure request, the "inputs" of a
 * step request, or the signal pool the batched obsa.step keeps. The wire contract sends a
 * non-finite float as null; these helpers read null as NaN.
 */
#ifndef RECORD_H
#define RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* A float parameter of a component and where configure stores it. `present` is NULL for a
 * parameter that must be given, else it says whether an optional one (a feature's) was. */
typedef struct {
    const char *name;
    double *value;
    bool *present;
} param_t;

/* Read every parameter of `table`; false with the reason in `why` when one is missing
 * or not a number. */
bool read_params(const cJSON *parameters, const param_t *table, size_t count,
                 char *why, size_t why_len);

/* The number `name` of `record`: NaN when it is null (a non-finite float on the bench). */
double rec_number(const cJSON *record, const char *name);

/* The boolean `name` of `record` (false when absent). */
bool rec_bool(const cJSON *record, const char *name);

/* The integer `name` of `record`; `*found` says whether it was there. */
long rec_int(const cJSON *record, const char *name, bool *found);

/* Extremes of an array of measurements over those that are valid and not NaN. */
typedef struct {
    double max, min, sum; /* sum: NaN unless every measurement is usable */
    bool all_usable;      /* every measurement valid and a number */
} extremes_t;

extremes_t rec_extremes(const cJSON *record, const char *values, const char *valid);

/* The first name of the NULL-terminated `names` that `record` lacks, or NULL. */
const char *rec_missing(const cJSON *record, const char *const *names);

#endif
