/* contactor_manager.c — precharge, close, open in order, supervise the HV contactors.
 *
 * Spec: spec/interfaces/contactor_manager.yaml, requirements OBSA-CONT-* (spec 0.3.0).
 *
 * Closing (close_request, no contactor_open_request, no latched fault): main negative;
 * once it reads closed, precharge (an attempt starts); once the DC link is within
 * precharge_voltage_tolerance_V of the pack, main positive; once that reads closed (at the
 * latest when the attempt's time is up) precharge opens and the path is closed. An attempt
 * that times out is aborted; the next starts precharge_retry_wait_s after the abort; after
 * precharge_max_attempts failures precharge_failed latches. Every attempt that ends
 * without closing is followed by the wait (the resistor cools), whatever the requests do.
 *
 * Opening: on close_request falling, the positive side first, main negative
 * opening_delay_s later and at least one step later. On contactor_open_request every
 * contactor opens in the same step (no close command may stand while it is raised).
 *
 * Supervision: a contactor whose feedback disagrees with its command for
 * contactor_feedback_timeout_s is welded (commanded open) or a feedback mismatch
 * (commanded closed). Faults latch until fault_reset_request while all are commanded open;
 * a weld fault survives the reset while its contactor still reads closed.
 */
#include <math.h>
#include <stdbool.h>

#include "components.h"
#include "record.h"

enum { OPEN = 0, PRECHARGING = 1, CLOSED = 2, OPENING = 3, ERROR = 4 }; /* contactor_state */

enum { /* bits of contactor_fault_flags */
    PRECHARGE_FAILED = 1 << 0,
    MAIN_POSITIVE_WELDED = 1 << 1,
    MAIN_NEGATIVE_WELDED = 1 << 2,
    PRECHARGE_WELDED = 1 << 3,
    FEEDBACK_MISMATCH = 1 << 4,
};

typedef enum { /* phases of the sequence; contactor_state is derived from them */
    IDLE,           /* nothing to do, or finishing an opening */
    CLOSE_NEGATIVE, /* main negative commanded, waiting for its feedback */
    PRECHARGE,      /* precharge commanded, waiting for the DC link */
    CLOSE_POSITIVE, /* main positive commanded, precharge still closed */
    PATH_CLOSED,
    ABORT,      /* opening an attempt that timed out */
    RETRY_WAIT, /* all open, waiting for the next attempt */
    FAULTED,    /* a fault is latched */
} phase_t;

/* One contactor: its command and how long its feedback has disagreed with it. */
typedef struct {
    const char *feedback; /* input signal */
    const char *command;  /* output signal */
    unsigned weld_bit;
    bool closed_cmd, disagrees;
    double disagree_since_s;
} contactor_t;

enum { POS, NEG, PRE, N_CONTACTORS };

static contactor_t contactors[N_CONTACTORS] = {
    [POS] = {"main_positive_closed_fb", "main_positive_close_cmd", MAIN_POSITIVE_WELDED},
    [NEG] = {"main_negative_closed_fb", "main_negative_close_cmd", MAIN_NEGATIVE_WELDED},
    [PRE] = {"precharge_closed_fb", "precharge_close_cmd", PRECHARGE_WELDED},
};

static struct {
    double precharge_timeout_s, precharge_max_attempts, precharge_retry_wait_s;
    double precharge_voltage_tolerance_V, opening_delay_s, contactor_feedback_timeout_s;
} cfg;

static const param_t PARAMS[] = {
    {"precharge_timeout_s", &cfg.precharge_timeout_s, NULL},
    {"precharge_max_attempts", &cfg.precharge_max_attempts, NULL},
    {"precharge_retry_wait_s", &cfg.precharge_retry_wait_s, NULL},
    {"precharge_voltage_tolerance_V", &cfg.precharge_voltage_tolerance_V, NULL},
    {"opening_delay_s", &cfg.opening_delay_s, NULL},
    {"contactor_feedback_timeout_s", &cfg.contactor_feedback_timeout_s, NULL},
};

static struct {
    phase_t phase;
    unsigned faults;
    int attempts;          /* started since the last successful closing or fault reset */
    int failed;            /* of those, timed out */
    bool count_from_zero;  /* the next attempt counts from one */
    double attempt_start_s;
    bool waiting;          /* a retry wait is pending since abort_s */
    double abort_s;
    bool positive_opened;  /* when the positive side was last commanded open */
    double positive_opened_s;
} st;

static bool configure(const cJSON *parameters, char *why, size_t why_len)
{
    return read_params(parameters, PARAMS, sizeof PARAMS / sizeof PARAMS[0], why, why_len);
}

static void reset(void)
{
    for (int i = 0; i < N_CONTACTORS; i++) {
        contactors[i].closed_cmd = false;
        contactors[i].disagrees = false;
    }
    st.phase = IDLE;
    st.faults = 0;
    st.attempts = st.failed = 0;
    st.count_from_zero = true;
    st.waiting = false;
    st.positive_opened = false;
}

/* ---- contactors ------------------------------------------------------------------- */
static void command(int which, bool closed, double t)
{
    contactor_t *c = &contactors[which];
    if (closed != c->closed_cmd) {
        c->closed_cmd = closed;
        c->disagrees = true; /* the feedback lags a new command until it follows */
        c->disagree_since_s = t;
    }
}

/* Fault bits of a feedback that has disagreed with the command for the timeout. */
static unsigned supervise(contactor_t *c, bool feedback_closed, double t)
{
    if (feedback_closed == c->closed_cmd) {
        c->disagrees = false;
        return 0;
    }
    if (!c->disagrees) {
        c->disagrees = true;
        c->disagree_since_s = t;
    }
    if (t - c->disagree_since_s < cfg.contactor_feedback_timeout_s - TIME_EPS_S)
        return 0;
    return c->closed_cmd ? FEEDBACK_MISMATCH : c->weld_bit;
}

static bool any_commanded(void)
{
    return contactors[POS].closed_cmd || contactors[NEG].closed_cmd
           || contactors[PRE].closed_cmd;
}

/* Open the positive side, then main negative opening_delay_s later (and at least one
 * step later); true once every contactor is commanded open. */
static bool open_in_order(double t)
{
    if (contactors[POS].closed_cmd || contactors[PRE].closed_cmd) {
        command(POS, false, t);
        command(PRE, false, t);
        st.positive_opened = true;
        st.positive_opened_s = t;
    } else if (contactors[NEG].closed_cmd) {
        if (!st.positive_opened || t - st.positive_opened_s >= cfg.opening_delay_s - TIME_EPS_S)
            command(NEG, false, t);
    }
    return !contactors[NEG].closed_cmd;
}

/* ---- the closing sequence --------------------------------------------------------- */
static bool retry_wait_over(double t)
{
    return !st.waiting || t - st.abort_s >= cfg.precharge_retry_wait_s - TIME_EPS_S;
}

static bool attempt_timed_out(double t)
{
    return t - st.attempt_start_s >= cfg.precharge_timeout_s - TIME_EPS_S;
}

static void start_attempt(double t)
{
    command(NEG, true, t);
    st.phase = CLOSE_NEGATIVE;
}

/* Advance the closing sequence by one step (close_request is raised). */
static void sequence(double t, double pack_V, double link_V, bool neg_fb, bool pos_fb)
{
    switch (st.phase) {
    case IDLE:
        if (open_in_order(t)) { /* an opening still under way finishes first */
            if (st.count_from_zero) {
                st.attempts = st.failed = 0;
                st.count_from_zero = false;
            }
            if (retry_wait_over(t))
                start_attempt(t);
            else
                st.phase = RETRY_WAIT; /* the resistor cools */
        }
        break;
    case CLOSE_NEGATIVE:
        if (neg_fb) {
            command(PRE, true, t);
            st.attempts++;
            st.attempt_start_s = t;
            st.phase = PRECHARGE;
        }
        break;
    case PRECHARGE: /* a NaN voltage never counts as precharged */
        if (t > st.attempt_start_s && fabs(pack_V - link_V) <= cfg.precharge_voltage_tolerance_V) {
            command(POS, true, t);
            st.phase = CLOSE_POSITIVE;
        } else if (attempt_timed_out(t)) {
            st.waiting = true;
            st.abort_s = t;
            st.phase = ABORT;
            open_in_order(t);
        }
        break;
    case CLOSE_POSITIVE:
        if (pos_fb || attempt_timed_out(t)) {
            command(PRE, false, t);
            st.phase = PATH_CLOSED;
            st.count_from_zero = true;
        }
        break;
    case ABORT:
        if (open_in_order(t)) {
            st.failed++;
            if (st.failed >= (int)cfg.precharge_max_attempts) {
                st.faults |= PRECHARGE_FAILED;
                st.phase = FAULTED;
            } else {
                st.phase = RETRY_WAIT;
            }
        }
        break;
    case RETRY_WAIT:
        if (retry_wait_over(t))
            start_attempt(t);
        break;
    case FAULTED: /* the faults were reset in this step: start over */
        st.phase = IDLE;
        break;
    case PATH_CLOSED:
        break;
    }
}

/* ---- step -------------------------------------------------------------------------- */
static cJSON *step(double t, const cJSON *in)
{
    bool fb[N_CONTACTORS];
    for (int i = 0; i < N_CONTACTORS; i++) {
        fb[i] = rec_bool(in, contactors[i].feedback);
        st.faults |= supervise(&contactors[i], fb[i], t); /* last step's commands vs now */
    }
    if (st.faults && rec_bool(in, "fault_reset_request") && !any_commanded()) {
        unsigned still_welded = 0;
        for (int i = 0; i < N_CONTACTORS; i++)
            if (fb[i])
                still_welded |= contactors[i].weld_bit;
        st.faults &= still_welded;
        if (!st.faults) {
            st.phase = IDLE;
            st.count_from_zero = true;
        }
    }

    bool precharging = st.phase == PRECHARGE;
    if (rec_bool(in, "contactor_open_request")) {
        for (int i = 0; i < N_CONTACTORS; i++)
            command(i, false, t);
        st.phase = st.faults ? FAULTED : IDLE;
    } else if (st.faults) {
        st.phase = FAULTED;
        open_in_order(t);
    } else if (!rec_bool(in, "close_request")) {
        st.phase = IDLE;
        open_in_order(t);
    } else {
        sequence(t, rec_number(in, "pack_voltage_V"), rec_number(in, "link_voltage_V"),
                 fb[NEG], fb[POS]);
    }
    if (precharging && st.phase != PRECHARGE && st.phase != CLOSE_POSITIVE) {
        st.waiting = true; /* an attempt abandoned or aborted: the resistor cools first */
        st.abort_s = t;
    }

    int state;
    if (st.faults)
        state = ERROR;
    else if (st.phase == CLOSE_NEGATIVE || st.phase == PRECHARGE || st.phase == CLOSE_POSITIVE
             || st.phase == ABORT || st.phase == RETRY_WAIT) /* OBSA-CONT-012 */
        state = PRECHARGING;
    else if (st.phase == PATH_CLOSED)
        state = CLOSED;
    else if (any_commanded() || fb[POS] || fb[NEG] || fb[PRE])
        state = OPENING;
    else
        state = OPEN;

    cJSON *out = cJSON_CreateObject();
    for (int i = 0; i < N_CONTACTORS; i++)
        cJSON_AddBoolToObject(out, contactors[i].command, contactors[i].closed_cmd);
    cJSON_AddNumberToObject(out, "contactor_state", state);
    cJSON_AddNumberToObject(out, "precharge_attempts", st.attempts);
    cJSON_AddNumberToObject(out, "contactor_fault_flags", st.faults);
    return out;
}

static const char *const INPUTS[] = {
    "close_request", "contactor_open_request", "fault_reset_request", "pack_voltage_V",
    "link_voltage_V", "main_positive_closed_fb", "main_negative_closed_fb",
    "precharge_closed_fb", NULL,
};

const component_t contactor_manager = {"contactor_manager", INPUTS, configure, reset, step};
