/* gc_graph.c - the ownership graph; see gc_graph.h for the rules. */
#include "gc_graph.h"

#include <stdlib.h>
#include <string.h>

#include "strmap.h"

typedef struct gc_edge gc_edge_t;

/* "dep refers to owner"; one per distinct owner uid in dep's references. */
struct gc_edge {
    gc_node_t *owner;
    gc_node_t *dep;
    gc_edge_t *prev, *next;   /* in owner->deps */
    bool blocking;            /* some reference with this uid blocks owner deletion */
};

struct gc_node {
    char *uid, *api_version, *kind, *namespace_, *name;
    bool observed;
    bool confirmed_absent;
    gc_meta_t meta;           /* zeroed while virtual */
    gc_edge_t **owner_edges;  /* to distinct owners, in reference order */
    size_t n_owner_edges;
    gc_edge_t *deps;          /* list of edges whose owner is this node */
    size_t n_deps;
    size_t n_blocking;        /* edges in deps with blocking set */
};

struct gc_graph {
    strmap_t *nodes;          /* uid -> gc_node_t* (values freed by the graph) */
    gc_kinds_t kinds;
    gc_sink_t sink;
};

/* ---- sink ---------------------------------------------------------------- */

static void want_delete(gc_graph_t *g, const gc_node_t *n)
{
    if (g->sink.attempt_delete) g->sink.attempt_delete(g->sink.ctx, n->uid);
}

static void want_orphan(gc_graph_t *g, const gc_node_t *n)
{
    if (g->sink.attempt_orphan) g->sink.attempt_orphan(g->sink.ctx, n->uid);
}

static void want_delete_dependents(gc_graph_t *g, const gc_node_t *n)
{
    for (gc_edge_t *e = n->deps; e; e = e->next) want_delete(g, e->dep);
}

/* ---- nodes --------------------------------------------------------------- */

static int set_str(char **dst, const char *src)
{
    char *s = strdup(src ? src : "");
    if (!s) return -1;
    free(*dst);
    *dst = s;
    return 0;
}

static int set_identity(gc_node_t *n, const char *av, const char *kind, const char *ns,
                        const char *name)
{
    return set_str(&n->api_version, av) || set_str(&n->kind, kind) ||
                   set_str(&n->namespace_, ns) || set_str(&n->name, name)
               ? -1
               : 0;
}

static void node_free(gc_node_t *n)
{
    free(n->uid);
    free(n->api_version);
    free(n->kind);
    free(n->namespace_);
    free(n->name);
    gc_meta_clear(&n->meta);
    free(n->owner_edges);
    free(n);
}

static gc_node_t *node_add(gc_graph_t *g, const char *uid)
{
    gc_node_t *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->uid = strdup(uid);
    if (!n->uid || strmap_put(g->nodes, uid, n) != 0) {
        node_free(n);
        return NULL;
    }
    return n;
}

static void node_remove(gc_graph_t *g, gc_node_t *n)
{
    strmap_take(g->nodes, n->uid);
    node_free(n);
}

/* A virtual node nobody refers to any more has no reason to exist. */
static void drop_if_unreferenced(gc_graph_t *g, gc_node_t *n)
{
    if (!n->observed && n->n_deps == 0 && n->n_owner_edges == 0) node_remove(g, n);
}

/* ---- edges --------------------------------------------------------------- */

static void edge_unlink(gc_graph_t *g, gc_edge_t *e)
{
    gc_node_t *owner = e->owner;
    if (e->prev) e->prev->next = e->next;
    else owner->deps = e->next;
    if (e->next) e->next->prev = e->prev;
    owner->n_deps--;
    if (e->blocking) owner->n_blocking--;
    free(e);
    drop_if_unreferenced(g, owner);
}

static void edge_set_blocking(gc_edge_t *e, bool blocking)
{
    if (e->blocking == blocking) return;
    e->blocking = blocking;
    if (blocking) e->owner->n_blocking++;
    else e->owner->n_blocking--;
}

/* Where a virtual owner lives: the dependent's namespace for a namespaced
 * (or unknown) kind, nowhere for a cluster-scoped one. */
static const char *virtual_namespace(gc_graph_t *g, const gc_node_t *dep, const gc_ref_t *ref)
{
    gc_kind_t k;
    if (gc_kinds_lookup(&g->kinds, ref->api_version, ref->kind, &k) && !k.namespaced) return "";
    return dep->namespace_;
}

static gc_node_t *virtual_owner(gc_graph_t *g, const gc_node_t *dep, const gc_ref_t *ref)
{
    gc_node_t *o = node_add(g, ref->uid);
    if (!o) return NULL;
    if (set_identity(o, ref->api_version, ref->kind, virtual_namespace(g, dep, ref), ref->name)) {
        node_remove(g, o);
        return NULL;
    }
    return o;
}

/* Upstream's "potentially invalid reference": the uid is known but under a
 * namespace the dependent cannot refer to, or under another name or kind. */
static bool ref_suspicious(const gc_node_t *owner, const gc_node_t *dep, const gc_ref_t *ref)
{
    if (owner->namespace_[0] && strcmp(owner->namespace_, dep->namespace_) != 0) return true;
    if (strcmp(owner->name, ref->name) != 0) return true;
    return !gc_same_group_kind(owner->api_version, owner->kind, ref->api_version, ref->kind);
}

/* Reacts to a new edge to an owner that already existed: verify suspicious
 * references; join an owner's foreground or orphan deletion in progress. */
static void on_new_edge_to_known(gc_graph_t *g, gc_node_t *owner, gc_node_t *dep, const gc_ref_t *ref)
{
    if (ref_suspicious(owner, dep, ref)) {
        want_delete(g, dep);
        return;
    }
    if (gc_meta_orphaning(&owner->meta)) want_orphan(g, owner);
    else if (gc_meta_deleting_dependents(&owner->meta)) want_delete(g, dep);
}

static gc_edge_t *edge_link(gc_graph_t *g, gc_node_t *dep, const gc_ref_t *ref, bool blocking)
{
    gc_node_t *owner = strmap_get(g->nodes, ref->uid);
    bool created = false;
    if (!owner) {
        owner = virtual_owner(g, dep, ref);
        if (!owner) return NULL;
        created = true;
    }
    gc_edge_t *e = calloc(1, sizeof *e);
    if (!e) {
        if (created) node_remove(g, owner);
        return NULL;
    }
    e->owner = owner;
    e->dep = dep;
    e->next = owner->deps;
    if (owner->deps) owner->deps->prev = e;
    owner->deps = e;
    owner->n_deps++;
    edge_set_blocking(e, blocking);
    if (created) want_delete(g, owner);  /* does it exist at all? */
    else on_new_edge_to_known(g, owner, dep, ref);
    return e;
}

/* ---- reference diffs ----------------------------------------------------- */

static bool uid_seen_before(const gc_meta_t *m, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(m->refs[j].uid, m->refs[i].uid) == 0) return true;
    return false;
}

/* Any reference to uid blocks owner deletion (duplicates are OR-ed). */
static bool refs_block(const gc_meta_t *m, const char *uid)
{
    for (size_t i = 0; i < m->n_refs; i++)
        if (m->refs[i].block_owner_deletion && strcmp(m->refs[i].uid, uid) == 0) return true;
    return false;
}

static gc_edge_t *take_old_edge(gc_node_t *n, const char *uid)
{
    for (size_t i = 0; i < n->n_owner_edges; i++) {
        gc_edge_t *e = n->owner_edges[i];
        if (e && strcmp(e->owner->uid, uid) == 0) {
            n->owner_edges[i] = NULL;
            return e;
        }
    }
    return NULL;
}

/* A reference kept: if it stopped blocking, an owner waiting on it may go. */
static void keep_edge(gc_graph_t *g, gc_edge_t *e, bool blocking)
{
    bool unblocked = e->blocking && !blocking;
    edge_set_blocking(e, blocking);
    if (unblocked && gc_meta_deleting_dependents(&e->owner->meta)) want_delete(g, e->owner);
}

/* A reference gone: an owner waiting on it may go. */
static void drop_edge(gc_graph_t *g, gc_edge_t *e)
{
    gc_node_t *owner = e->owner;
    if (gc_meta_deleting_dependents(&owner->meta)) want_delete(g, owner);
    edge_unlink(g, e);
}

/* Rebuilds n's owner edges from n->meta.refs, reusing the edges of owners
 * that stayed. Returns -1 if some edge could not be allocated. */
static int sync_owner_edges(gc_graph_t *g, gc_node_t *n)
{
    int rc = 0;
    gc_edge_t **fresh = NULL;
    if (n->meta.n_refs) {
        fresh = calloc(n->meta.n_refs, sizeof *fresh);
        if (!fresh) return -1;  /* keep the old edges: stale beats broken */
    }
    size_t nf = 0;
    for (size_t i = 0; i < n->meta.n_refs; i++) {
        if (uid_seen_before(&n->meta, i)) continue;
        const gc_ref_t *ref = &n->meta.refs[i];
        bool blocking = refs_block(&n->meta, ref->uid);
        gc_edge_t *e = take_old_edge(n, ref->uid);
        if (e) keep_edge(g, e, blocking);
        else if (!(e = edge_link(g, n, ref, blocking))) rc = -1;
        if (e) fresh[nf++] = e;
    }
    gc_edge_t **old = n->owner_edges;
    size_t n_old = n->n_owner_edges;
    n->owner_edges = fresh;
    n->n_owner_edges = nf;
    for (size_t i = 0; i < n_old; i++)
        if (old[i]) drop_edge(g, old[i]);
    free(old);
    return rc;
}

static void unlink_all_owners(gc_graph_t *g, gc_node_t *n)
{
    gc_edge_t **old = n->owner_edges;
    size_t n_old = n->n_owner_edges;
    n->owner_edges = NULL;
    n->n_owner_edges = 0;
    for (size_t i = 0; i < n_old; i++) drop_edge(g, old[i]);
    free(old);
}

/* ---- observation --------------------------------------------------------- */

static bool identity_differs(const gc_node_t *n, const gc_meta_t *m)
{
    return strcmp(n->namespace_, m->namespace_) != 0 || strcmp(n->name, m->name) != 0 ||
           !gc_same_group_kind(n->api_version, n->kind, m->api_version, m->kind);
}

/* Upstream's processTransitions: the start of an orphan or foreground
 * deletion puts work on the queues (orphan wins when both are asked for). */
static void transitions(gc_graph_t *g, gc_node_t *n, const gc_meta_t *old)
{
    if (gc_meta_orphaning(&n->meta)) {
        if (!gc_meta_orphaning(old)) want_orphan(g, n);
        return;
    }
    if (gc_meta_deleting_dependents(&n->meta) && !gc_meta_deleting_dependents(old)) {
        want_delete_dependents(g, n);
        want_delete(g, n);
    }
}

int gc_graph_observe(gc_graph_t *g, gc_meta_t **metap)
{
    if (!g || !metap || !*metap) return -1;
    gc_meta_t *m = *metap;
    *metap = NULL;
    if (!m->uid || !m->uid[0] || !m->namespace_ || !m->name) {
        gc_meta_destroy(&m);
        return -1;
    }
    gc_node_t *n = strmap_get(g->nodes, m->uid);
    if (!n && !(n = node_add(g, m->uid))) {
        gc_meta_destroy(&m);
        return -1;
    }
    /* A virtual node observed under another identity: the references that
     * named it otherwise need checking. */
    if (!n->observed && n->name && identity_differs(n, m)) want_delete_dependents(g, n);
    if (set_identity(n, m->api_version, m->kind, m->namespace_, m->name)) {
        gc_meta_destroy(&m);
        drop_if_unreferenced(g, n);
        return -1;
    }
    n->observed = true;
    n->confirmed_absent = false;
    gc_meta_t old = n->meta;
    n->meta = *m;
    free(m);
    int rc = sync_owner_edges(g, n);
    transitions(g, n, &old);
    gc_meta_clear(&old);
    return rc;
}

void gc_graph_observe_delete(gc_graph_t *g, const char *uid)
{
    gc_node_t *n = g && uid ? strmap_get(g->nodes, uid) : NULL;
    if (!n) return;
    unlink_all_owners(g, n);
    gc_meta_clear(&n->meta);
    n->observed = false;
    if (n->n_deps == 0) {
        node_remove(g, n);
        return;
    }
    /* Still named by dependents: stays as a virtual node until they let go. */
    want_delete_dependents(g, n);
}

bool gc_graph_confirm_absent(gc_graph_t *g, const char *uid)
{
    gc_node_t *n = g && uid ? strmap_get(g->nodes, uid) : NULL;
    if (!n || n->observed) return false;
    n->confirmed_absent = true;
    want_delete_dependents(g, n);
    return true;
}

/* ---- life cycle and queries ---------------------------------------------- */

gc_graph_t *gc_graph_new(const gc_kinds_t *kinds, const gc_sink_t *sink)
{
    gc_graph_t *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->nodes = strmap_new(NULL);
    if (!g->nodes) {
        free(g);
        return NULL;
    }
    if (kinds) g->kinds = *kinds;
    if (sink) g->sink = *sink;
    return g;
}

void gc_graph_destroy(gc_graph_t **gp)
{
    if (!gp || !*gp) return;
    gc_graph_t *g = *gp;
    strmap_iter_t it;
    void *v;
    /* Every edge sits in exactly one dependent's owner_edges: free it there,
     * before any node goes. */
    strmap_iter_init(&it, g->nodes);
    while (strmap_next(&it, NULL, &v)) {
        gc_node_t *n = v;
        for (size_t i = 0; i < n->n_owner_edges; i++) free(n->owner_edges[i]);
    }
    strmap_iter_init(&it, g->nodes);
    while (strmap_next(&it, NULL, &v)) node_free(v);
    strmap_destroy(&g->nodes);
    free(g);
    *gp = NULL;
}

const gc_node_t *gc_graph_find(const gc_graph_t *g, const char *uid)
{
    return g && uid ? strmap_get(g->nodes, uid) : NULL;
}

size_t gc_graph_count(const gc_graph_t *g)
{
    return g ? strmap_size(g->nodes) : 0;
}

void gc_graph_each(const gc_graph_t *g, bool (*fn)(const gc_node_t *n, void *arg), void *arg)
{
    if (!g || !fn) return;
    strmap_iter_t it;
    void *v;
    strmap_iter_init(&it, g->nodes);
    while (strmap_next(&it, NULL, &v))
        if (!fn(v, arg)) return;
}

const char *gc_node_uid(const gc_node_t *n) { return n->uid; }
const char *gc_node_api_version(const gc_node_t *n) { return n->api_version; }
const char *gc_node_kind(const gc_node_t *n) { return n->kind; }
const char *gc_node_namespace(const gc_node_t *n) { return n->namespace_; }
const char *gc_node_name(const gc_node_t *n) { return n->name; }
bool gc_node_observed(const gc_node_t *n) { return n->observed; }
const gc_meta_t *gc_node_meta(const gc_node_t *n) { return n->observed ? &n->meta : NULL; }
bool gc_node_being_deleted(const gc_node_t *n) { return n->observed && n->meta.being_deleted; }
bool gc_node_deleting_dependents(const gc_node_t *n) { return gc_meta_deleting_dependents(&n->meta); }
bool gc_node_orphaning(const gc_node_t *n) { return gc_meta_orphaning(&n->meta); }
bool gc_node_confirmed_absent(const gc_node_t *n) { return n->confirmed_absent; }
size_t gc_node_dependent_count(const gc_node_t *n) { return n->n_deps; }
size_t gc_node_owner_count(const gc_node_t *n) { return n->n_owner_edges; }
size_t gc_node_blocking_count(const gc_node_t *n) { return n->n_blocking; }

void gc_node_each_dependent(const gc_node_t *n,
                            bool (*fn)(const gc_node_t *dep, bool blocking, void *arg), void *arg)
{
    if (!n || !fn) return;
    for (const gc_edge_t *e = n->deps; e; e = e->next)
        if (!fn(e->dep, e->blocking, arg)) return;
}

void gc_node_each_owner(const gc_node_t *n, bool (*fn)(const gc_node_t *owner, void *arg), void *arg)
{
    if (!n || !fn) return;
    for (size_t i = 0; i < n->n_owner_edges; i++)
        if (!fn(n->owner_edges[i]->owner, arg)) return;
}
