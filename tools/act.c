/* act.c - kubus-act: speaks to the executor as a controller would, for tests
 * and for poking at a running bus by hand.
 *
 * Owns: nothing the product needs. Reads actions as JSON lines on stdin,
 * sends them through the broker with routing id "<controller>.<shard>",
 * prints the first result of each as a JSON line on stdout, and exits 0 once
 * every action has one (1 on timeout, 2 on bad usage or input).
 *
 * Input line: {"verb":"CREATE","resource":"replicasets","namespace":"ns",
 *   "name":"x","body":{...},"patch_type":"MERGE|JSON_PATCH|STRATEGIC",
 *   "propagation":"BACKGROUND|FOREGROUND|ORPHAN","precondition_uid":"...",
 *   "precondition_resource_version":"...","subresource":"status",
 *   "owner_key":"ns/x","id":N}     (id optional: (generation << 32) | n)
 * Output line: {"id":N,"status":201,"reason":"","message":"","object":{...},
 *   "executor_epoch":"hex","verb":"CREATE","resource":...,"namespace":...,
 *   "name":...,"owner_key":...}
 * Like the controller library, it re-sends an action that has no result
 * after --resend-after, and with --resend-on-epoch-change every action
 * without a result when ExecutorStatus shows a new epoch.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bus.h"
#include "errfmt.h"
#include "flags.h"
#include "msg.h"
#include "worker.h"

typedef struct {
    bus_config_t bus;
    char controller[64];
    long shard, generation;
    uint64_t timeout_ms, resend_after_ms;
    bool resend_on_epoch, query, serial;
} act_opts_t;

typedef struct {
    msg_action_t a;            /* strings point into `src` */
    json_t *src;
    char *body;
    bool done;
    uint64_t sent_ms;
    unsigned sends;
} pending_t;

typedef struct {
    act_opts_t o;
    void *zctx, *dealer, *sub;
    char id[BUS_ID_MAX];
    pending_t *acts;
    size_t n, cap, ndone, nsent;
    uint64_t epoch;
    unsigned long duplicates, resends;
} act_t;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void die_usage(const char *msg)
{
    fprintf(stderr, "kubus-act: %s\n"
            "usage: kubus-act [--bus-dir=DIR|tcp://H:P] [--controller=NAME] [--shard=N] [--generation=N]\n"
            "                 [--timeout=60s] [--resend-after=30s] [--resend-on-epoch-change] [--serial]\n"
            "                 [--query-inflight]   < actions.jsonl\n", msg);
    exit(2);
}

/* ---- options ---------------------------------------------------------------- */

static int parse_one(act_opts_t *o, const flags_arg_t *a, char *err, size_t errlen)
{
    const char *n = a->name, *v = a->value;
    if (!strcmp(n, "bus-dir")) return bus_config_parse(&o->bus, v) < 0 ? errfmt(err, errlen, "bad --bus-dir") : 1;
    if (!strcmp(n, "controller")) return flags_string(n, v, o->controller, sizeof o->controller, false, err, errlen) < 0 ? -1 : 1;
    if (!strcmp(n, "shard")) return flags_long(n, v, 0, 1000000, &o->shard, err, errlen) < 0 ? -1 : 1;
    if (!strcmp(n, "generation")) return flags_long(n, v, 1, 0xffffffffL, &o->generation, err, errlen) < 0 ? -1 : 1;
    if (!strcmp(n, "timeout")) return flags_duration_ms(n, v, 1, 86400000, &o->timeout_ms, err, errlen) < 0 ? -1 : 1;
    if (!strcmp(n, "resend-after")) return flags_duration_ms(n, v, 100, 86400000, &o->resend_after_ms, err, errlen) < 0 ? -1 : 1;
    bool *b = !strcmp(n, "resend-on-epoch-change") ? &o->resend_on_epoch
              : !strcmp(n, "query-inflight")       ? &o->query
              : !strcmp(n, "serial")               ? &o->serial : NULL;
    if (!b) return errfmt(err, errlen, "unknown flag %s", a->arg);
    *b = true;
    return 0; /* a bare switch: the next argument is not its value */
}

static void parse_args(act_opts_t *o, int argc, char **argv)
{
    char dir[256], err[512];
    if (worker_default_bus_dir(dir, sizeof dir) < 0 || bus_config_parse(&o->bus, dir) < 0) die_usage("no bus dir");
    snprintf(o->controller, sizeof o->controller, "act");
    /* Ids must be unique per life, like a controller's: a new generation
     * per run, so the executor's journal never takes a run for a re-send. */
    /* At most 20 bits, so ids stay below 2^53 and survive JSON tools that
     * read numbers as doubles (jq). */
    o->generation = (long)(((uint32_t)time(NULL) * 2654435761u) ^ (uint32_t)getpid()) & 0xfffffL;
    if (o->generation == 0) o->generation = 1;
    o->timeout_ms = 60000;
    o->resend_after_ms = 30000;
    flags_iter_t it;
    flags_arg_t a;
    int rc;
    flags_iter_init(&it, argc, argv, 1);
    while ((rc = flags_iter_next(&it, &a, err, sizeof err)) == 1) {
        if (!strcmp(a.name, "help") || !strcmp(a.name, "h")) die_usage("help");
        int used = parse_one(o, &a, err, sizeof err);
        if (used < 0) die_usage(err);
        if (used == 1) flags_iter_took_value(&it, &a);
    }
    if (rc < 0) die_usage(err);
}

/* ---- reading actions ---------------------------------------------------------- */

static int enum_of(const char *s, const char *const *names, int n)
{
    for (int i = 1; s && i < n; i++)
        if (!strcmp(s, names[i])) return i;
    return s ? -1 : 0;
}

static const char *const verbs[] = { "", "CREATE", "UPDATE", "UPDATE_STATUS", "PATCH", "DELETE", "GET", "EVENT" };
static const char *const patches[] = { "", "MERGE", "JSON_PATCH", "STRATEGIC" };
static const char *const props[] = { "", "BACKGROUND", "FOREGROUND", "ORPHAN" };

static char *str(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return (char *)(v ? v : "");
}

static int fill_action(act_t *x, pending_t *p, size_t index)
{
    json_t *j = p->src;
    msg_action_t *a = &p->a;
    kubus__v1__action__init(a);
    json_t *id = json_object_get(j, "id");
    a->id = json_is_integer(id) ? (uint64_t)json_integer_value(id)
                                : ((uint64_t)x->o.generation << 32) | (uint64_t)(index + 1);
    a->controller = x->o.controller;
    a->shard = (uint32_t)x->o.shard;
    a->verb = enum_of(json_string_value(json_object_get(j, "verb")), verbs, 8);
    a->patch_type = enum_of(json_string_value(json_object_get(j, "patch_type")), patches, 4);
    a->propagation = enum_of(json_string_value(json_object_get(j, "propagation")), props, 4);
    if ((int)a->verb <= 0 || (int)a->patch_type < 0 || (int)a->propagation < 0) return -1;
    a->resource = str(j, "resource");
    a->namespace_ = str(j, "namespace");
    a->name = str(j, "name");
    a->precondition_uid = str(j, "precondition_uid");
    a->precondition_resource_version = str(j, "precondition_resource_version");
    a->subresource = str(j, "subresource");
    a->owner_key = str(j, "owner_key");
    a->api_group_version = str(j, "api_group_version");
    json_t *body = json_object_get(j, "body");
    if (body) {
        p->body = json_is_string(body) ? strdup(json_string_value(body)) : json_dumps(body, JSON_COMPACT);
        if (!p->body) return -1;
        a->body.data = (uint8_t *)p->body;
        a->body.len = strlen(p->body);
    }
    return 0;
}

static void read_actions(act_t *x)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        json_error_t jerr;
        json_t *j = json_loadb(line, (size_t)len, 0, &jerr);
        if (!j && strspn(line, " \t\r\n") == (size_t)len) continue;
        if (!json_is_object(j)) die_usage("input line is not a JSON object");
        if (x->n == x->cap) {
            x->cap = x->cap ? 2 * x->cap : 64;
            x->acts = realloc(x->acts, x->cap * sizeof *x->acts);
            if (!x->acts) die_usage("out of memory");
        }
        pending_t *p = &x->acts[x->n];
        memset(p, 0, sizeof *p);
        p->src = j;
        if (fill_action(x, p, x->n) < 0) die_usage("bad verb, patch_type or propagation in input");
        x->n++;
    }
    free(line);
}

/* ---- the bus ----------------------------------------------------------------- */

static void open_sockets(act_t *x)
{
    char ep[512];
    x->zctx = zmq_ctx_new();
    snprintf(x->id, sizeof x->id, "%s.%ld", x->o.controller, x->o.shard);
    x->dealer = x->zctx ? zmq_socket(x->zctx, ZMQ_DEALER) : NULL;
    int zero = 0;
    if (!x->dealer || zmq_setsockopt(x->dealer, ZMQ_ROUTING_ID, x->id, strlen(x->id)) < 0 ||
        zmq_setsockopt(x->dealer, ZMQ_LINGER, &zero, sizeof zero) < 0 || bus_limit_inbound(x->dealer, MSG_MAX_BYTES) < 0 ||
        bus_endpoint(&x->o.bus, BUS_EP_ACTIONS, ep, sizeof ep) < 0 || zmq_connect(x->dealer, ep) < 0)
        die_usage("cannot connect to the broker's actions socket");
    x->sub = bus_open(x->zctx, ZMQ_SUB, &x->o.bus, BUS_EP_EVENTS, false);
    if (!x->sub || zmq_setsockopt(x->sub, ZMQ_SUBSCRIBE, BUS_TOPIC_EXECUTOR, strlen(BUS_TOPIC_EXECUTOR)) < 0)
        die_usage("cannot subscribe to executor status");
}

static void send_action(act_t *x, pending_t *p)
{
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_ACTION;
    env.action = &p->a;
    if (bus_send(x->dealer, NULL, &env, false) < 0) {
        fprintf(stderr, "kubus-act: send failed for id %llu: %s\n", (unsigned long long)p->a.id, zmq_strerror(errno));
        return;
    }
    if (p->sends++) x->resends++;
    p->sent_ms = mono_ms();
}

static void send_query(act_t *x)
{
    Kubus__V1__InflightQuery q;
    kubus__v1__inflight_query__init(&q);
    q.controller = x->o.controller;
    q.shard = (uint32_t)x->o.shard;
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_INFLIGHT_QUERY;
    env.inflight_query = &q;
    if (bus_send(x->dealer, NULL, &env, false) < 0) die_usage("cannot send the inflight query");
}

/* ---- output -------------------------------------------------------------------- */

static json_t *result_json(const msg_result_t *r)
{
    char epoch[24];
    snprintf(epoch, sizeof epoch, "%016llx", (unsigned long long)r->executor_epoch);
    json_t *obj = r->object.len ? json_loadb((const char *)r->object.data, r->object.len, 0, NULL) : NULL;
    return json_pack("{s:I, s:i, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)r->id,
                     "status", (int)r->status, "reason", r->reason ? r->reason : "", "message",
                     r->message ? r->message : "", "object", obj ? obj : json_null(), "executor_epoch", epoch,
                     "verb", msg_verb_name(r->verb), "resource", r->resource ? r->resource : "", "namespace",
                     r->namespace_ ? r->namespace_ : "", "name", r->name ? r->name : "", "owner_key",
                     r->owner_key ? r->owner_key : "", "uid", r->uid ? r->uid : "");
}

static void print_json(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (s) printf("%s\n", s);
    fflush(stdout);
    free(s);
    json_decref(j);
}

static void print_report(const Kubus__V1__InflightReport *r)
{
    json_t *pending = json_array(), *recent = json_array();
    for (size_t i = 0; i < r->n_pending; i++)
        json_array_append_new(pending, json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)r->pending[i]->id,
                                                 "verb", msg_verb_name(r->pending[i]->verb), "resource",
                                                 r->pending[i]->resource, "namespace", r->pending[i]->namespace_,
                                                 "name", r->pending[i]->name));
    for (size_t i = 0; i < r->n_recent; i++) json_array_append_new(recent, result_json(r->recent[i]));
    char epoch[24];
    snprintf(epoch, sizeof epoch, "%016llx", (unsigned long long)r->executor_epoch);
    print_json(json_pack("{s:s, s:s, s:o, s:o}", "controller", r->controller, "executor_epoch", epoch,
                         "pending", pending, "recent", recent));
}

/* ---- the loop ------------------------------------------------------------------ */

static pending_t *find(act_t *x, uint64_t id)
{
    for (size_t i = 0; i < x->n; i++)
        if (x->acts[i].a.id == id) return &x->acts[i];
    return NULL;
}

static void on_result(act_t *x, const msg_result_t *r)
{
    pending_t *p = find(x, r->id);
    if (!p || p->done) {
        x->duplicates++;
        return;
    }
    /* The epoch that answered: a status heartbeat may not have reached us
     * before that executor died, and a later one must still count as new. */
    if (!x->epoch) x->epoch = r->executor_epoch;
    p->done = true;
    x->ndone++;
    print_json(result_json(r));
}

static void on_status(act_t *x, const Kubus__V1__ExecutorStatus *s)
{
    if (s->epoch == x->epoch) return;
    bool changed = x->epoch != 0;
    x->epoch = s->epoch;
    if (!changed || !x->o.resend_on_epoch) return;
    fprintf(stderr, "kubus-act: executor epoch changed: re-sending what has no result\n");
    for (size_t i = 0; i < x->nsent; i++)
        if (!x->acts[i].done) send_action(x, &x->acts[i]);
}

static void send_more(act_t *x)
{
    while (x->nsent < x->n && (!x->o.serial || x->ndone == x->nsent)) send_action(x, &x->acts[x->nsent++]);
    uint64_t now = mono_ms();
    for (size_t i = 0; i < x->nsent; i++)
        if (!x->acts[i].done && now - x->acts[i].sent_ms >= x->o.resend_after_ms) send_action(x, &x->acts[i]);
}

/* true when the query was answered */
static bool receive(act_t *x, int timeout_ms)
{
    zmq_pollitem_t items[] = { { x->dealer, 0, ZMQ_POLLIN, 0 }, { x->sub, 0, ZMQ_POLLIN, 0 } };
    if (zmq_poll(items, 2, timeout_ms) < 0) return false;
    char prefix[BUS_TOPIC_MAX], err[256];
    msg_envelope_t *env;
    bool answered = false;
    while ((env = bus_recv(x->dealer, NULL, 0, true, err, sizeof err)) != NULL) {
        if (env->body_case == KUBUS__V1__ENVELOPE__BODY_ACTION_RESULT) on_result(x, env->action_result);
        if (env->body_case == KUBUS__V1__ENVELOPE__BODY_INFLIGHT_REPORT && x->o.query) {
            print_report(env->inflight_report);
            answered = true;
        }
        msg_free(env);
    }
    while ((env = bus_recv(x->sub, prefix, sizeof prefix, true, err, sizeof err)) != NULL) {
        if (env->body_case == KUBUS__V1__ENVELOPE__BODY_EXECUTOR_STATUS) on_status(x, env->executor_status);
        msg_free(env);
    }
    return answered;
}

int main(int argc, char **argv)
{
    static act_t x;
    parse_args(&x.o, argc, argv);
    if (!x.o.query) read_actions(&x);
    open_sockets(&x);
    uint64_t deadline = mono_ms() + x.o.timeout_ms;
    int code = 1;
    if (x.o.query) send_query(&x);
    while (mono_ms() < deadline) {
        if (!x.o.query) send_more(&x);
        bool answered = receive(&x, 100);
        if (x.o.query ? answered : x.ndone == x.n) { code = 0; break; }
    }
    if (code) fprintf(stderr, "kubus-act: timed out: %zu of %zu actions without a result\n", x.n - x.ndone, x.n);
    if (x.duplicates || x.resends)
        fprintf(stderr, "kubus-act: %lu re-sends, %lu duplicate results ignored\n", x.resends, x.duplicates);
    for (size_t i = 0; i < x.n; i++) {
        json_decref(x.acts[i].src);
        free(x.acts[i].body);
    }
    free(x.acts);
    zmq_close(x.dealer);
    zmq_close(x.sub);
    zmq_ctx_term(x.zctx);
    return code;
}
