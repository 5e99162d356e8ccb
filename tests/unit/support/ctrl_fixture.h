/* ctrl_fixture: what every controller unit test needs around the runtime's
 * socket-less test mode. It owns the log of captured actions (fx_sent_t,
 * filled by fx_capture as the runtime's send function), the look-ups the
 * tests assert on (by verb, resource, name, event reason), the answers a
 * test plays as the executor (fx_answer*), and building a ready test
 * runtime. It knows nothing about any one controller: each test keeps its
 * own object builders. Failed look-ups fail the running cmocka test. */
#ifndef KUBUS_TEST_CTRL_FIXTURE_H
#define KUBUS_TEST_CTRL_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ctrl/runtime.h"

#define FX_MAX_SENT 256

/* One action the controller sent, decoded. */
typedef struct {
    uint64_t id;
    int verb, propagation;
    char resource[64], name[128], uid_pre[64], rv_pre[64];
    json_t *body;   /* the decoded body, NULL when none (owned by the log) */
    bool answered;  /* set by fx_answer_pending */
} fx_action_t;

/* The actions captured since the last fx_reset, in the order sent. */
typedef struct {
    fx_action_t a[FX_MAX_SENT];
    int n;
} fx_sent_t;

/* The runtime's actions_send_fn; ud is the fx_sent_t to append to. */
int fx_capture(const uint8_t *buf, size_t len, void *ud);
/* Forgets every captured action. */
void fx_reset(fx_sent_t *log);

/* How many actions of verb on resource (NULL: any resource). */
int fx_count(const fx_sent_t *log, int verb, const char *resource);
/* The i-th action of verb on resource (NULL: any); fails the test if none. */
const fx_action_t *fx_nth(const fx_sent_t *log, int verb, const char *resource, int i);
/* The first action of verb on resource; fails the test if none. */
const fx_action_t *fx_find(const fx_sent_t *log, int verb, const char *resource);
/* The first action of verb on the object called name, or NULL. */
const fx_action_t *fx_named(const fx_sent_t *log, int verb, const char *name);
/* The last action of verb, or NULL. */
const fx_action_t *fx_last(const fx_sent_t *log, int verb);
/* "VERB:resource/name" of every non-event action (for failure messages;
 * valid until the next call). */
const char *fx_actions_text(const fx_sent_t *log);

/* How many events have this reason; the message of the last one into
 * *message when message is not NULL (untouched when there is none). */
int fx_event(const fx_sent_t *log, const char *reason, const char **message);
/* Whether an event with exactly this reason and message was sent. */
bool fx_has_event(const fx_sent_t *log, const char *reason, const char *message);

/* Feeds the executor's result for s to the runtime. */
void fx_answer(ctrl_runtime_t *rt, const fx_action_t *s, uint32_t status);
/* The same with a reason (NULL: none) and the object the server returned
 * (NULL: none). */
void fx_answer_with(ctrl_runtime_t *rt, const fx_action_t *s, uint32_t status, const char *reason,
                    const json_t *object);
/* A failure as the executor passes an API Status on: status, reason,
 * message and one cause type (NULL: none). */
void fx_answer_status(ctrl_runtime_t *rt, const fx_action_t *s, uint32_t status, const char *reason,
                      const char *message, const char *cause);
/* Answers every not yet fx_answer_pending-answered non-event action with
 * status (a create's 200 becomes 201) and marks it answered. */
void fx_answer_pending(ctrl_runtime_t *rt, fx_sent_t *log, uint32_t status);
/* Answers every captured action of verb with status. */
void fx_answer_verb(ctrl_runtime_t *rt, const fx_sent_t *log, int verb, uint32_t status);

/* The object a create asked for as the server made it: a copy of its body
 * with this uid and resourceVersion (new reference). */
json_t *fx_created(const fx_action_t *s, const char *uid, const char *rv);
/* Feeds obj (taken) to the runtime as an add/update; asserts it was taken. */
void fx_apply(ctrl_runtime_t *rt, const char *resource, json_t *obj);

/* A test-mode runtime sending into log; fails the test if it cannot. */
ctrl_runtime_t *fx_runtime_new(const ctrl_config_t *cfg, fx_sent_t *log);
/* After the controller attached: the clock at now_ms, caches ready, the
 * log empty. */
void fx_runtime_ready(ctrl_runtime_t *rt, fx_sent_t *log, uint64_t now_ms);
/* Destroys the runtime, then forgets the log (so that anything sent while
 * shutting down is freed too). */
void fx_runtime_destroy(ctrl_runtime_t **rt, fx_sent_t *log);

#endif
