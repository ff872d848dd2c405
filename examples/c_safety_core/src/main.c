/* main.c — the OBSA wire contract (protocol 1.0) over stdin/stdout.
 *
 * One JSON-RPC 2.0 request per line on stdin, one reply per line on stdout; logs go to
 * stderr. Methods (docs/vendor-guide.md, section 6):
 *   obsa.hello                 identity, spec version, components, "batch": true
 *   <component>.configure      {"parameters": {...}}  -> null
 *   <component>.reset          {}                     -> null
 *   <component>.step           {"t", "inputs"}        -> the outputs record
 *   obsa.step                  {"t", "components", "inputs"} -> {component: outputs}
 * obsa.step keeps a pool of the last value of every signal: the given inputs update it,
 * then each listed component reads its inputs from the pool and writes its outputs to it.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "components.h"
#include "record.h"

#define MODULE_VENDOR "Example vendor"
#define MODULE_NAME "C safety core"
#define MODULE_VERSION "0.1.0"
#define SPEC_VERSION "0.3.0"
#define PROTOCOL "1.0"

/* JSON-RPC error codes: the contract's -32000 is "the module's code failed". */
enum {
    PARSE_ERROR = -32700,
    INVALID_REQUEST = -32600,
    METHOD_NOT_FOUND = -32601,
    INVALID_PARAMS = -32602,
    MODULE_ERROR = -32000,
};

static const component_t *const COMPONENTS[] = {
    &safety_supervisor, &contactor_manager, &diagnostics,
};
#define N_COMPONENTS (sizeof COMPONENTS / sizeof COMPONENTS[0])

static cJSON *pool; /* obsa.step: the last value of every signal */

/* A failed request: its JSON-RPC code, message and (for MODULE_ERROR) data. */
typedef struct {
    int code;
    char message[256];
    cJSON *data;
} failure_t;

static cJSON *fail(failure_t *f, int code, const char *message, const char *component,
                   const char *call)
{
    f->code = code;
    snprintf(f->message, sizeof f->message, "%s", message);
    if (code == MODULE_ERROR) {
        f->data = cJSON_CreateObject();
        if (component != NULL)
            cJSON_AddStringToObject(f->data, "component", component);
        cJSON_AddStringToObject(f->data, "call", call);
    }
    return NULL;
}

static const component_t *find_component(const char *id, size_t len)
{
    for (size_t i = 0; i < N_COMPONENTS; i++)
        if (strlen(COMPONENTS[i]->id) == len && strncmp(COMPONENTS[i]->id, id, len) == 0)
            return COMPONENTS[i];
    return NULL;
}

/* ---- methods ----------------------------------------------------------------------- */
static cJSON *hello(void)
{
    cJSON *result = cJSON_CreateObject();
    cJSON_AddStringToObject(result, "protocol", PROTOCOL);
    cJSON *module = cJSON_AddObjectToObject(result, "module");
    cJSON_AddStringToObject(module, "vendor", MODULE_VENDOR);
    cJSON_AddStringToObject(module, "name", MODULE_NAME);
    cJSON_AddStringToObject(module, "version", MODULE_VERSION);
    cJSON_AddStringToObject(result, "spec_version", SPEC_VERSION);
    cJSON *ids = cJSON_AddArrayToObject(result, "components");
    for (size_t i = 0; i < N_COMPONENTS; i++)
        cJSON_AddItemToArray(ids, cJSON_CreateString(COMPONENTS[i]->id));
    cJSON_AddBoolToObject(result, "batch", 1);
    return result;
}

/* Step `c` on `inputs` (every input must be there). */
static cJSON *step_one(const component_t *c, double t, const cJSON *inputs, failure_t *f)
{
    const char *missing = rec_missing(inputs, c->inputs);
    if (missing != NULL) {
        char message[200];
        snprintf(message, sizeof message, "input '%s' of %s was never sent", missing, c->id);
        return fail(f, INVALID_PARAMS, message, NULL, NULL);
    }
    return c->step(t, inputs);
}

static cJSON *component_call(const component_t *c, const char *call, cJSON *params,
                             failure_t *f)
{
    if (strcmp(call, "configure") == 0) {
        const cJSON *parameters = cJSON_GetObjectItemCaseSensitive(params, "parameters");
        char why[200];
        if (!cJSON_IsObject(parameters))
            return fail(f, INVALID_PARAMS, "configure takes {\"parameters\": {...}}", NULL, NULL);
        if (!c->configure(parameters, why, sizeof why))
            return fail(f, MODULE_ERROR, why, c->id, "configure");
        return cJSON_CreateNull();
    }
    if (strcmp(call, "reset") == 0) {
        c->reset();
        return cJSON_CreateNull();
    }
    if (strcmp(call, "step") == 0) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(params, "t");
        const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(params, "inputs");
        if (!cJSON_IsNumber(t) || !cJSON_IsObject(inputs))
            return fail(f, INVALID_PARAMS, "step takes {\"t\": number, \"inputs\": {...}}",
                        NULL, NULL);
        return step_one(c, t->valuedouble, inputs, f);
    }
    return fail(f, METHOD_NOT_FOUND, "no such method", NULL, NULL);
}

/* Move every signal of `signals` into the pool, replacing its previous value. */
static void pool_update(cJSON *signals)
{
    cJSON *item;
    while ((item = signals->child) != NULL) {
        cJSON_DetachItemViaPointer(signals, item);
        cJSON *old = cJSON_GetObjectItemCaseSensitive(pool, item->string);
        if (old != NULL)
            cJSON_ReplaceItemViaPointer(pool, old, item); /* item keeps its name */
        else
            cJSON_AddItemToObject(pool, item->string, item);
    }
}

static cJSON *batch_step(cJSON *params, failure_t *f)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(params, "t");
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(params, "components");
    cJSON *inputs = cJSON_GetObjectItemCaseSensitive(params, "inputs");
    if (!cJSON_IsNumber(t) || !cJSON_IsArray(ids) || !cJSON_IsObject(inputs))
        return fail(f, INVALID_PARAMS, "obsa.step takes {\"t\": number, \"components\": "
                    "[...], \"inputs\": {...}}", NULL, NULL);
    pool_update(inputs);
    cJSON *result = cJSON_CreateObject();
    const cJSON *id;
    cJSON_ArrayForEach(id, ids) {
        const component_t *c = cJSON_IsString(id)
                                   ? find_component(id->valuestring, strlen(id->valuestring))
                                   : NULL;
        cJSON *outputs = c != NULL ? step_one(c, t->valuedouble, pool, f)
                                   : fail(f, INVALID_PARAMS, "unknown component", NULL, NULL);
        if (outputs == NULL) {
            cJSON_Delete(result);
            return NULL;
        }
        cJSON *copy = cJSON_Duplicate(outputs, 1);
        pool_update(copy); /* a later component sees these outputs of the same instant */
        cJSON_Delete(copy);
        cJSON_AddItemToObject(result, c->id, outputs);
    }
    return result;
}

static cJSON *dispatch(const char *method, cJSON *params, failure_t *f)
{
    if (strcmp(method, "obsa.hello") == 0)
        return hello();
    if (strcmp(method, "obsa.step") == 0)
        return batch_step(params, f);
    const char *dot = strrchr(method, '.');
    const component_t *c = dot != NULL ? find_component(method, (size_t)(dot - method)) : NULL;
    if (c == NULL)
        return fail(f, METHOD_NOT_FOUND, "no such method", NULL, NULL);
    return component_call(c, dot + 1, params, f);
}

/* ---- the loop ---------------------------------------------------------------------- */
static cJSON *handle(const char *line)
{
    failure_t f = {0, "", NULL};
    cJSON *request = cJSON_Parse(line);
    cJSON *id = NULL, *result = NULL;
    if (request == NULL) {
        fail(&f, PARSE_ERROR, "not JSON", NULL, NULL);
    } else {
        const cJSON *method = cJSON_GetObjectItemCaseSensitive(request, "method");
        cJSON *params = cJSON_GetObjectItemCaseSensitive(request, "params");
        id = cJSON_GetObjectItemCaseSensitive(request, "id");
        if (!cJSON_IsString(method) || !cJSON_IsObject(params))
            fail(&f, INVALID_REQUEST, "expected a JSON-RPC 2.0 request object", NULL, NULL);
        else
            result = dispatch(method->valuestring, params, &f);
    }
    cJSON *reply = cJSON_CreateObject();
    cJSON_AddStringToObject(reply, "jsonrpc", "2.0");
    cJSON_AddItemToObject(reply, "id", id != NULL ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
    if (result != NULL) {
        cJSON_AddItemToObject(reply, "result", result);
    } else {
        cJSON *error = cJSON_AddObjectToObject(reply, "error");
        cJSON_AddNumberToObject(error, "code", f.code);
        cJSON_AddStringToObject(error, "message", f.message);
        if (f.data != NULL)
            cJSON_AddItemToObject(error, "data", f.data);
    }
    cJSON_Delete(request);
    return reply;
}

int main(void)
{
    char *line = NULL;
    size_t capacity = 0;
    pool = cJSON_CreateObject();
    for (size_t i = 0; i < N_COMPONENTS; i++)
        COMPONENTS[i]->reset();
    while (getline(&line, &capacity, stdin) > 0) {
        if (line[strspn(line, " \t\r\n")] == '\0')
            continue; /* a blank line is no request */
        cJSON *reply = handle(line);
        char *text = cJSON_PrintUnformatted(reply);
        fputs(text, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        free(text);
        cJSON_Delete(reply);
    }
    free(line);
    cJSON_Delete(pool);
    return 0; /* stdin closed: the bench is done */
}
