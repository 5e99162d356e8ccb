/* evcorr.c - Event correlation: similar-event combining and the per-object
 * spam budget. See evcorr.h.
 *
 * Invariants: every value in `similar` is a similar_t whose `messages` set
 * holds at most EVCORR_SIMILAR_MAX keys (beyond that the verdict no longer
 * depends on them); every value in `spam` is a bucket_t with 0 <= tokens <=
 * EVCORR_SPAM_BURST as of `at_ms`. */
#include "evcorr.h"

#include <stdbool.h>
#include <stdlib.h>

#include "strmap.h"

typedef struct {
    strmap_t *messages;   /* distinct messages within the window (values unused) */
    uint64_t last_ms;     /* the last similar event */
} similar_t;

typedef struct {
    double tokens;
    uint64_t at_ms;       /* when `tokens` was right */
} bucket_t;

struct evcorr {
    size_t capacity;
    strmap_t *similar;    /* similar key -> similar_t */
    strmap_t *spam;       /* spam key -> bucket_t */
};

static void similar_free(void *v)
{
    similar_t *s = v;
    if (!s) return;
    strmap_destroy(&s->messages);
    free(s);
}

evcorr_t *evcorr_new(size_t capacity)
{
    evcorr_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->capacity = capacity ? capacity : 1;
    c->similar = strmap_new(similar_free);
    c->spam = strmap_new(free);
    if (!c->similar || !c->spam) evcorr_destroy(&c);
    return c;
}

void evcorr_destroy(evcorr_t **cp)
{
    if (!cp || !*cp) return;
    strmap_destroy(&(*cp)->similar);
    strmap_destroy(&(*cp)->spam);
    free(*cp);
    *cp = NULL;
}

/* Makes room for one more entry: first whatever `stale` says is spent,
 * then arbitrary entries down to 3/4 of the capacity. */
static void make_room(strmap_t *m, size_t capacity, bool (*stale)(const void *, uint64_t), uint64_t now_ms)
{
    if (strmap_size(m) < capacity) return;
    strmap_iter_t it;
    const char *k;
    void *v;
    strmap_iter_init(&it, m);
    while (strmap_next(&it, &k, &v))
        if (stale(v, now_ms)) strmap_del(m, k);
    strmap_iter_init(&it, m);
    while (strmap_size(m) > capacity * 3 / 4 && strmap_next(&it, &k, &v)) strmap_del(m, k);
}

static bool similar_stale(const void *v, uint64_t now_ms)
{
    const similar_t *s = v;
    return now_ms - s->last_ms > EVCORR_SIMILAR_WINDOW_MS;
}

static double refilled(const bucket_t *b, uint64_t now_ms)
{
    double t = b->tokens + (double)(now_ms - b->at_ms) / (double)EVCORR_SPAM_REFILL_MS;
    return t > EVCORR_SPAM_BURST ? EVCORR_SPAM_BURST : t;
}

static bool bucket_full(const void *v, uint64_t now_ms) { return refilled(v, now_ms) >= EVCORR_SPAM_BURST; }

/* Records the message; true when the event is to be combined. */
static bool note_similar(evcorr_t *c, const evagg_spec_t *spec, uint64_t now_ms)
{
    const char *key = evagg_spec_similar_key(spec);
    similar_t *s = strmap_get(c->similar, key);
    if (s && similar_stale(s, now_ms)) {
        strmap_del(c->similar, key);
        s = NULL;
    }
    if (!s) {
        make_room(c->similar, c->capacity, similar_stale, now_ms);
        s = calloc(1, sizeof *s);
        if (!s || !(s->messages = strmap_new(NULL)) || strmap_put(c->similar, key, s) < 0) {
            similar_free(s);
            return false;
        }
    }
    s->last_ms = now_ms;
    if (strmap_size(s->messages) < EVCORR_SIMILAR_MAX) (void)strmap_put(s->messages, evagg_spec_message(spec), NULL);
    return strmap_size(s->messages) >= EVCORR_SIMILAR_MAX;
}

/* Takes a token; false when the object's budget is spent. */
static bool take_token(evcorr_t *c, const evagg_spec_t *spec, uint64_t now_ms)
{
    const char *key = evagg_spec_spam_key(spec);
    bucket_t *b = strmap_get(c->spam, key);
    if (!b) {
        make_room(c->spam, c->capacity, bucket_full, now_ms);
        b = malloc(sizeof *b);
        if (!b || strmap_put(c->spam, key, b) < 0) { free(b); return true; }
        b->tokens = EVCORR_SPAM_BURST;
    } else {
        b->tokens = refilled(b, now_ms);
    }
    b->at_ms = now_ms;
    if (b->tokens < 1.0) return false;
    b->tokens -= 1.0;
    return true;
}

evcorr_verdict_t evcorr_admit(evcorr_t *c, evagg_spec_t *spec, uint64_t now_ms)
{
    if (!c || !spec) return EVCORR_SEND;
    bool combine = note_similar(c, spec, now_ms);
    if (!take_token(c, spec, now_ms)) return EVCORR_DROP;
    if (combine && evagg_spec_combine(spec) == 0) return EVCORR_COMBINED;
    return EVCORR_SEND;
}
