/* safety_supervisor.c — three-level limits, plausibility, timeouts and current limits.
 *
 * Spec: spec/interfaces/safety_supervisor.yaml, requirements OBSA-SAFE-* (spec 0.3.0).
 * Each step:
 *   1. reduce the measurements to the supervised quantities: highest and lowest cell
 *      voltage and temperature over the cells the cell monitor vouches for, the charge
 *      current max(I, 0) and the discharge current max(-I, 0) (I > 0 is charging);
 *   2. update the eight limits of LIMITS: warning above the MOL, request above the RSL,
 *      fault after the delay above the MSL (a lower limit is the negated quantity against
 *      negated levels); the charge temperature limits apply only while charging;
 *   3. debounce the other fault conditions; the sensor timeouts latch at once;
 *   4. on fault_reset_request, clear every latched fault whose condition has healed;
 *      the deep-discharge lockout never clears;
 *   5. derive the state and the current limits.
 */
#include <math.h>
#include <stdio.h>

#include "components.h"
#include "record.h"

enum { NORMAL = 0, WARNING = 1, DERATING = 2, FAULT = 3, LOCKOUT = 4 }; /* safety_state */

/* Bits of safety_fault_flags (the spec's fault_codes); the limits use bits 0-7. */
enum {
    INSULATION_FAULT = 1 << 8,
    INSULATION_WARNING = 1 << 9, /* a live warning, not latched */
    PACK_VOLTAGE_IMPLAUSIBLE = 1 << 10,
    CELL_VOLTAGE_INVALID = 1 << 11,
    CELL_TEMPERATURE_INVALID = 1 << 12,
    CELL_MONITOR_TIMEOUT = 1 << 13,
    CURRENT_SENSOR_TIMEOUT = 1 << 14,
    DEEP_DISCHARGE = 1 << 15, /* a lockout: never reset */
};

typedef enum { CELL_V_MAX, CELL_V_MIN, CHARGE_A, DISCHARGE_A, T_MAX, T_MIN } quantity_t;
typedef enum { DERATES_CHARGE, DERATES_DISCHARGE } direction_t;

/* One limit set of the spec: its parameters, fault bit, direction and what it derates. */
typedef struct {
    const char *mol, *rsl, *msl, *hysteresis, *fault_delay;
    int bit;
    bool upper;
    quantity_t quantity;
    direction_t derates;
    bool charging_only; /* supervised only while the pack is charged */
} limit_def_t;

#define LIMIT(q, unit, hyst_unit, bit, upper, quantity, derates, charging_only)          \
    {#q "_mol_" #unit, #q "_rsl_" #unit, #q "_msl_" #unit, #q "_hysteresis_" #hyst_unit, \
     #q "_fault_delay_s", 1 << (bit), upper, quantity, derates, charging_only}

static const limit_def_t LIMITS[] = {
    /*    quantity                  unit  hyst bit upper  measured     derates         charging */
    LIMIT(cell_voltage_max,          V,    V,    0, true,  CELL_V_MAX,  DERATES_CHARGE,    false),
    LIMIT(cell_voltage_min,          V,    V,    1, false, CELL_V_MIN,  DERATES_DISCHARGE, false),
    LIMIT(charge_current_max,        A,    A,    2, true,  CHARGE_A,    DERATES_CHARGE,    false),
    LIMIT(discharge_current_max,     A,    A,    3, true,  DISCHARGE_A, DERATES_DISCHARGE, false),
    LIMIT(charge_temperature_max,    degC, K,    4, true,  T_MAX,       DERATES_CHARGE,    true),
    LIMIT(charge_temperature_min,    degC, K,    5, false, T_MIN,       DERATES_CHARGE,    true),
    LIMIT(discharge_temperature_max, degC, K,    6, true,  T_MAX,       DERATES_DISCHARGE, false),
    LIMIT(discharge_temperature_min, degC, K,    7, false, T_MIN,       DERATES_DISCHARGE, false),
};
#define N_LIMITS (sizeof LIMITS / sizeof LIMITS[0])

/* The run-time state of one limit, in upper-limit form (levels multiplied by sign). */
typedef struct {
    double sign, mol, rsl, msl, hysteresis, delay_s;
    debounce_t fault;
    bool warning, request;
} limit_t;

static limit_t limits[N_LIMITS];

static struct {
    double derating_factor, rest_current_A;
    double deep_discharge_voltage_V, deep_discharge_delay_s;
    double insulation_warning_ohm, insulation_error_ohm, insulation_fault_delay_s;
    double pack_voltage_tolerance_V, plausibility_fault_delay_s;
    double cell_voltage_invalid_delay_s, cell_temperature_invalid_delay_s;
    double cell_monitor_timeout_s, current_sensor_timeout_s;
    bool deep_discharge_claimed, insulation_claimed, insulation_warning_claimed;
    bool insulation_delay_claimed, deep_discharge_delay_claimed;
    double charge_mol_A, discharge_mol_A;
} cfg;

static const param_t SCALARS[] = {
    {"derating_factor", &cfg.derating_factor, NULL},
    {"rest_current_A", &cfg.rest_current_A, NULL},
    {"charge_current_max_mol_A", &cfg.charge_mol_A, NULL}, /* the nominal current limits */
    {"discharge_current_max_mol_A", &cfg.discharge_mol_A, NULL},
    {"pack_voltage_tolerance_V", &cfg.pack_voltage_tolerance_V, NULL},
    {"plausibility_fault_delay_s", &cfg.plausibility_fault_delay_s, NULL},
    {"cell_voltage_invalid_delay_s", &cfg.cell_voltage_invalid_delay_s, NULL},
    {"cell_temperature_invalid_delay_s", &cfg.cell_temperature_invalid_delay_s, NULL},
    {"cell_monitor_timeout_s", &cfg.cell_monitor_timeout_s, NULL},
    {"current_sensor_timeout_s", &cfg.current_sensor_timeout_s, NULL},
    /* optional features: present only when the manifest claims them */
    {"deep_discharge_voltage_V", &cfg.deep_discharge_voltage_V, &cfg.deep_discharge_claimed},
    {"deep_discharge_delay_s", &cfg.deep_discharge_delay_s, &cfg.deep_discharge_delay_claimed},
    {"insulation_warning_ohm", &cfg.insulation_warning_ohm, &cfg.insulation_warning_claimed},
    {"insulation_error_ohm", &cfg.insulation_error_ohm, &cfg.insulation_claimed},
    {"insulation_fault_delay_s", &cfg.insulation_fault_delay_s, &cfg.insulation_delay_claimed},
};

static struct {
    debounce_t deep_discharge, insulation_lost, implausible, voltage_invalid,
        temperature_invalid;
    bool charge_blocked; /* a temperature left the charge RSL window */
    unsigned latched;    /* latched fault bits */
} st;

/* ---- configure / reset ------------------------------------------------------------ */
static bool configure(const cJSON *parameters, char *why, size_t why_len)
{
    if (!read_params(parameters, SCALARS, sizeof SCALARS / sizeof SCALARS[0], why, why_len))
        return false;
    for (size_t i = 0; i < N_LIMITS; i++) {
        const limit_def_t *def = &LIMITS[i];
        double mol, rsl, msl;
        const param_t table[] = {
            {def->mol, &mol, NULL}, {def->rsl, &rsl, NULL}, {def->msl, &msl, NULL},
            {def->hysteresis, &limits[i].hysteresis, NULL},
            {def->fault_delay, &limits[i].delay_s, NULL},
        };
        if (!read_params(parameters, table, sizeof table / sizeof table[0], why, why_len))
            return false;
        bool ordered = def->upper ? mol < rsl && rsl < msl : mol > rsl && rsl > msl;
        if (!ordered) { /* the levels only protect when ordered (OBSA-SAFE-027) */
            snprintf(why, why_len, "parameters %s / %s / %s: expected MOL %s RSL %s MSL, "
                     "found %g / %g / %g", def->mol, def->rsl, def->msl,
                     def->upper ? "<" : ">", def->upper ? "<" : ">", mol, rsl, msl);
            return false;
        }
        limits[i].sign = def->upper ? 1.0 : -1.0;
        limits[i].mol = limits[i].sign * mol;
        limits[i].rsl = limits[i].sign * rsl;
        limits[i].msl = limits[i].sign * msl;
    }
    if (cfg.insulation_claimed && cfg.insulation_warning_claimed
        && !(cfg.insulation_warning_ohm > cfg.insulation_error_ohm)) {
        snprintf(why, why_len, "parameters insulation_warning_ohm / insulation_error_ohm: "
                 "expected warning > error, found %g / %g", cfg.insulation_warning_ohm,
                 cfg.insulation_error_ohm);
        return false;
    }
    return true;
}

static void reset(void)
{
    for (size_t i = 0; i < N_LIMITS; i++) {
        debounce_init(&limits[i].fault, limits[i].delay_s);
        limits[i].warning = limits[i].request = false;
    }
    debounce_init(&st.deep_discharge,
                  cfg.deep_discharge_delay_claimed ? cfg.deep_discharge_delay_s : 0.0);
    debounce_init(&st.insulation_lost,
                  cfg.insulation_delay_claimed ? cfg.insulation_fault_delay_s : 0.0);
    debounce_init(&st.implausible, cfg.plausibility_fault_delay_s);
    debounce_init(&st.voltage_invalid, cfg.cell_voltage_invalid_delay_s);
    debounce_init(&st.temperature_invalid, cfg.cell_temperature_invalid_delay_s);
    st.charge_blocked = false;
    st.latched = 0;
}

/* ---- step -------------------------------------------------------------------------- */
/* Update one limit with a sample; true once its MSL violation has lasted the delay. */
static bool limit_update(limit_t *l, double value, double t)
{
    double x = l->sign * value;
    if (l->warning) {
        if (x <= l->mol - l->hysteresis)
            l->warning = false;
    } else if (x > l->mol) {
        l->warning = true;
    }
    if (l->request) {
        if (x <= l->rsl - l->hysteresis)
            l->request = false;
    } else if (x > l->rsl) {
        l->request = true;
    }
    return debounce_update(&l->fault, x > l->msl, t);
}

/* A latched limit fault may be reset once back inside the MSL by the hysteresis. */
static bool limit_healed(const limit_t *l, double value)
{
    return l->sign * value <= l->msl - l->hysteresis; /* false for NaN */
}

static cJSON *step(double t, const cJSON *in)
{
    /* 1. the supervised quantities */
    extremes_t v = rec_extremes(in, "cell_voltage_V", "cell_voltage_valid");
    extremes_t temp = rec_extremes(in, "cell_temperature_degC", "cell_temperature_valid");
    double current_A = rec_number(in, "pack_current_A");
    double pack_V = rec_number(in, "pack_voltage_V");
    double insulation_ohm = cfg.insulation_claimed
                                ? rec_number(in, "insulation_resistance_ohm") : INFINITY;
    double charge_A = current_A, discharge_A = current_A; /* NaN: neither direction known */
    if (!isnan(current_A)) {
        charge_A = current_A > 0.0 ? current_A : 0.0;
        discharge_A = current_A < 0.0 ? -current_A : 0.0;
    }
    bool charging = current_A > cfg.rest_current_A;
    const double value[] = {[CELL_V_MAX] = v.max, [CELL_V_MIN] = v.min,
                            [CHARGE_A] = charge_A, [DISCHARGE_A] = discharge_A,
                            [T_MAX] = temp.max, [T_MIN] = temp.min};

    /* 2. the three-level limits */
    unsigned latched = st.latched, warning_flags = 0, request_flags = 0;
    unsigned derate_charge = 0, derate_discharge = 0;
    for (size_t i = 0; i < N_LIMITS; i++) {
        const limit_def_t *def = &LIMITS[i];
        limit_t *l = &limits[i];
        if (def->charging_only && !charging) {
            l->warning = l->request = false;
            l->fault.running = false;
            continue;
        }
        if (limit_update(l, value[def->quantity], t))
            latched |= (unsigned)def->bit;
        if (l->warning)
            warning_flags |= (unsigned)def->bit;
        if (l->request) {
            request_flags |= (unsigned)def->bit;
            if (def->derates == DERATES_CHARGE)
                derate_charge = 1;
            else
                derate_discharge = 1;
        }
    }

    /* 3. the other fault conditions (NaN counts as the bad side of every threshold) */
    if (debounce_update(&st.deep_discharge,
                        cfg.deep_discharge_claimed && v.min < cfg.deep_discharge_voltage_V, t))
        latched |= DEEP_DISCHARGE;
    bool insulation_lost = !(insulation_ohm >= cfg.insulation_error_ohm);
    if (debounce_update(&st.insulation_lost, insulation_lost, t))
        latched |= INSULATION_FAULT;
    bool implausible = v.all_usable && !(fabs(pack_V - v.sum) <= cfg.pack_voltage_tolerance_V);
    if (debounce_update(&st.implausible, implausible, t))
        latched |= PACK_VOLTAGE_IMPLAUSIBLE;
    if (debounce_update(&st.voltage_invalid, !v.all_usable, t))
        latched |= CELL_VOLTAGE_INVALID;
    if (debounce_update(&st.temperature_invalid, !temp.all_usable, t))
        latched |= CELL_TEMPERATURE_INVALID;
    bool cell_monitor_lost = !(rec_number(in, "cell_monitor_age_s") <= cfg.cell_monitor_timeout_s);
    if (cell_monitor_lost)
        latched |= CELL_MONITOR_TIMEOUT;
    bool current_lost = !(rec_number(in, "current_sensor_age_s") <= cfg.current_sensor_timeout_s)
                        || isnan(current_A);
    if (current_lost)
        latched |= CURRENT_SENSOR_TIMEOUT;

    /* 4. fault reset: clear what has healed, judged on valid measurements only */
    if (latched && rec_bool(in, "fault_reset_request")) {
        const bool usable[] = {[CELL_V_MAX] = v.all_usable, [CELL_V_MIN] = v.all_usable,
                               [CHARGE_A] = !current_lost, [DISCHARGE_A] = !current_lost,
                               [T_MAX] = temp.all_usable, [T_MIN] = temp.all_usable};
        unsigned healed = 0;
        for (size_t i = 0; i < N_LIMITS; i++) {
            quantity_t q = LIMITS[i].quantity;
            if (usable[q] && limit_healed(&limits[i], value[q]))
                healed |= (unsigned)LIMITS[i].bit;
        }
        if (!insulation_lost)
            healed |= INSULATION_FAULT;
        if (v.all_usable)
            healed |= CELL_VOLTAGE_INVALID | (implausible ? 0 : PACK_VOLTAGE_IMPLAUSIBLE);
        if (temp.all_usable)
            healed |= CELL_TEMPERATURE_INVALID;
        if (!cell_monitor_lost)
            healed |= CELL_MONITOR_TIMEOUT;
        if (!current_lost)
            healed |= CURRENT_SENSOR_TIMEOUT;
        latched &= ~healed; /* DEEP_DISCHARGE is never healed: the lockout stays */
    }
    st.latched = latched;

    /* 5. charge permission (the charge RSL window, with hysteresis) and the outputs */
    const limit_t *hot = &limits[4], *cold = &limits[5];
    double window_high = hot->rsl, window_low = -cold->rsl;
    if (st.charge_blocked) {
        if (temp.min >= window_low + cold->hysteresis && temp.max <= window_high - hot->hysteresis)
            st.charge_blocked = false;
    } else if (temp.min < window_low || temp.max > window_high) {
        st.charge_blocked = true;
    }
    bool insulation_warning = cfg.insulation_warning_claimed
                              && !(insulation_ohm >= cfg.insulation_warning_ohm);
    double charge_limit_A = 0.0, discharge_limit_A = 0.0;
    int state;
    if (latched) { /* every latched bit is a fault or the lockout */
        state = latched & DEEP_DISCHARGE ? LOCKOUT : FAULT;
    } else {
        charge_limit_A = cfg.charge_mol_A * (derate_charge ? cfg.derating_factor : 1.0);
        discharge_limit_A = cfg.discharge_mol_A * (derate_discharge ? cfg.derating_factor : 1.0);
        if (st.charge_blocked)
            charge_limit_A = 0.0;
        if (request_flags || st.charge_blocked)
            state = DERATING;
        else if (warning_flags || insulation_warning)
            state = WARNING;
        else
            state = NORMAL;
    }

    cJSON *out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "safety_state", state);
    cJSON_AddNumberToObject(out, "safety_warning_flags", warning_flags);
    cJSON_AddNumberToObject(out, "safety_request_flags", request_flags);
    cJSON_AddNumberToObject(out, "safety_fault_flags",
                            latched | (insulation_warning ? INSULATION_WARNING : 0));
    cJSON_AddNumberToObject(out, "charge_current_limit_A", charge_limit_A);
    cJSON_AddNumberToObject(out, "discharge_current_limit_A", discharge_limit_A);
    cJSON_AddBoolToObject(out, "contactor_open_request", latched != 0);
    return out;
}

static const char *const INPUTS[] = {
    "cell_voltage_V", "cell_voltage_valid", "cell_temperature_degC", "cell_temperature_valid",
    "cell_monitor_age_s", "pack_current_A", "current_sensor_age_s", "pack_voltage_V",
    "insulation_resistance_ohm", "fault_reset_request", NULL,
};

const component_t safety_supervisor = {"safety_supervisor", INPUTS, configure, reset, step};
