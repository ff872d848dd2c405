/* diagnostics.c — the fault memory: status, occurrences and times of every DTC.
 *
 * Spec: spec/interfaces/diagnostics.yaml, requirements OBSA-DIAG-* (spec 0.3.0).
 * Every fault code of every component of the spec is a DTC; the output arrays list them in
 * ascending DTC order (DTCS below, copied from the fault_codes of the spec's interface files).
 * Per DTC: inactive -> active when its flag rises (occurrences + 1, last time set, first
 * time too on the first occurrence); active -> stored when it falls; stored -> inactive on
 * fault_reset_request. Counters and times survive a fault reset; only reset() erases them.
 */
#include <stdbool.h>

#include "components.h"
#include "record.h"

enum { INACTIVE = 0, ACTIVE = 1, STORED = 2 }; /* dtc_status */
#define MAX_OCCURRENCES 65535                   /* the range of dtc_occurrences */
#define NEVER_S (-1.0)

/* The fault-flags inputs, and for each DTC the input and bit that carry it. */
enum { SAFETY, CONTACTOR, CAN, SOC, THERMAL, N_SOURCES };

static const char *const SOURCES[N_SOURCES] = {
    [SAFETY] = "safety_fault_flags", [CONTACTOR] = "contactor_fault_flags",
    [CAN] = "can_fault_flags", [SOC] = "soc_fault_flags", [THERMAL] = "thermal_fault_flags",
};

static const struct {
    unsigned dtc;
    int source, bit;
} DTCS[] = {
    {0x0101, SAFETY, 0},  {0x0102, SAFETY, 1},  {0x0103, SAFETY, 2},  {0x0104, SAFETY, 3},
    {0x0105, SAFETY, 4},  {0x0106, SAFETY, 5},  {0x0107, SAFETY, 6},  {0x0108, SAFETY, 7},
    {0x0109, SAFETY, 8},  {0x010A, SAFETY, 9},  {0x010B, SAFETY, 10}, {0x010C, SAFETY, 11},
    {0x010D, SAFETY, 12}, {0x010E, SAFETY, 13}, {0x010F, SAFETY, 14}, {0x0110, SAFETY, 15},
    {0x0201, CONTACTOR, 0}, {0x0202, CONTACTOR, 1}, {0x0203, CONTACTOR, 2},
    {0x0204, CONTACTOR, 3}, {0x0205, CONTACTOR, 4},
    {0x0301, CAN, 0}, {0x0302, CAN, 1}, {0x0303, CAN, 2}, {0x0304, CAN, 3}, {0x0305, CAN, 4},
    {0x0401, SOC, 0},
    {0x0801, THERMAL, 0},
};
#define N_DTCS (sizeof DTCS / sizeof DTCS[0])

static struct {
    int status[N_DTCS];
    int occurrences[N_DTCS];
    double first_s[N_DTCS], last_s[N_DTCS];
    long previous[N_SOURCES]; /* each flags input as last seen */
} mem;

static bool configure(const cJSON *parameters, char *why, size_t why_len)
{
    (void)parameters; /* the fault memory has no parameters */
    (void)why;
    (void)why_len;
    return true;
}

static void reset(void)
{
    for (size_t i = 0; i < N_DTCS; i++) {
        mem.status[i] = INACTIVE;
        mem.occurrences[i] = 0;
        mem.first_s[i] = mem.last_s[i] = NEVER_S;
    }
    for (int s = 0; s < N_SOURCES; s++)
        mem.previous[s] = 0;
}

static void record_edges(double t, int source, long flags)
{
    long changed = flags ^ mem.previous[source];
    mem.previous[source] = flags;
    for (size_t i = 0; i < N_DTCS; i++) {
        long mask = 1L << DTCS[i].bit;
        if (DTCS[i].source != source || !(changed & mask))
            continue;
        if (flags & mask) { /* rising edge */
            mem.status[i] = ACTIVE;
            if (mem.occurrences[i] == 0)
                mem.first_s[i] = t;
            if (mem.occurrences[i] < MAX_OCCURRENCES)
                mem.occurrences[i]++;
            mem.last_s[i] = t;
        } else { /* falling edge */
            mem.status[i] = STORED;
        }
    }
}

static cJSON *step(double t, const cJSON *in)
{
    for (int s = 0; s < N_SOURCES; s++) {
        bool found;
        long flags = rec_int(in, SOURCES[s], &found);
        if (found && flags != mem.previous[s])
            record_edges(t, s, flags);
    }
    if (rec_bool(in, "fault_reset_request"))
        for (size_t i = 0; i < N_DTCS; i++)
            if (mem.status[i] == STORED)
                mem.status[i] = INACTIVE;

    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "dtc_status", cJSON_CreateIntArray(mem.status, N_DTCS));
    cJSON_AddItemToObject(out, "dtc_occurrences", cJSON_CreateIntArray(mem.occurrences, N_DTCS));
    cJSON_AddItemToObject(out, "dtc_first_time_s", cJSON_CreateDoubleArray(mem.first_s, N_DTCS));
    cJSON_AddItemToObject(out, "dtc_last_time_s", cJSON_CreateDoubleArray(mem.last_s, N_DTCS));
    return out;
}

static const char *const INPUTS[] = {
    "safety_fault_flags", "contactor_fault_flags", "fault_reset_request", "can_fault_flags",
    "soc_fault_flags", "thermal_fault_flags", NULL,
};

const component_t diagnostics = {"diagnostics", INPUTS, configure, reset, step};
