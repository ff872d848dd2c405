/* record.c — see record.h. */
#include "record.h"

#include <math.h>
#include <stdio.h>

bool read_params(const cJSON *parameters, const param_t *table, size_t count,
                 char *why, size_t why_len)
{
    for (size_t i = 0; i < count; i++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(parameters, table[i].name);
        if (table[i].present != NULL)
            *table[i].present = item != NULL;
        if (item == NULL && table[i].present != NULL)
            continue;
        if (!cJSON_IsNumber(item)) {
            snprintf(why, why_len, "parameter %s: expected a number, found %s", table[i].name,
                     item == NULL ? "nothing" : "another type");
            return false;
        }
        *table[i].value = item->valuedouble;
    }
    return true;
}

double rec_number(const cJSON *record, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(record, name);
    return cJSON_IsNumber(item) ? item->valuedouble : NAN;
}

bool rec_bool(const cJSON *record, const char *name)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(record, name));
}

long rec_int(const cJSON *record, const char *name, bool *found)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(record, name);
    *found = cJSON_IsNumber(item);
    return *found ? (long)item->valuedouble : 0;
}

extremes_t rec_extremes(const cJSON *record, const char *values, const char *valid)
{
    extremes_t e = {-INFINITY, INFINITY, 0.0, true};
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(record, values);
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(record, valid);
    value = value != NULL ? value->child : NULL;
    ok = ok != NULL ? ok->child : NULL;
    for (; value != NULL; value = value->next, ok = ok != NULL ? ok->next : NULL) {
        double x = cJSON_IsNumber(value) ? value->valuedouble : NAN;
        if (!cJSON_IsTrue(ok) || isnan(x)) {
            e.all_usable = false; /* an open wire must not fake an extreme */
            continue;
        }
        e.sum += x;
        if (x > e.max)
            e.max = x;
        if (x < e.min)
            e.min = x;
    }
    if (!e.all_usable)
        e.sum = NAN;
    return e;
}

const char *rec_missing(const cJSON *record, const char *const *names)
{
    for (; *names != NULL; names++)
        if (cJSON_GetObjectItemCaseSensitive(record, *names) == NULL)
            return *names;
    return NULL;
}
