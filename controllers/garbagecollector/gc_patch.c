/* gc_patch.c - JSON patches with test ops; see gc_patch.h. */
#include "gc_patch.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static int add_op(json_t *ops, const char *op, const char *path, json_t *value)
{
    json_t *o = json_object();
    if (!o) {
        json_decref(value);
        return -1;
    }
    int rc = json_object_set_new(o, "op", json_string(op));
    rc |= json_object_set_new(o, "path", json_string(path));
    if (value) rc |= json_object_set_new(o, "value", value);
    rc |= json_array_append_new(ops, o);
    return rc ? -1 : 0;
}

/* test + remove of ownerReferences[i], guarded by its uid. */
static int drop_ref_ops(json_t *ops, const gc_ref_t *r)
{
    char path[96];
    snprintf(path, sizeof path, "/metadata/ownerReferences/%d/uid", r->index);
    if (add_op(ops, "test", path, json_string(r->uid))) return -1;
    snprintf(path, sizeof path, "/metadata/ownerReferences/%d", r->index);
    return add_op(ops, "remove", path, NULL);
}

/* ops, or NULL when empty or incomplete (then released). */
static json_t *finish(json_t *ops, int failed)
{
    if (ops && !failed && json_array_size(ops) > 0) return ops;
    json_decref(ops);
    return NULL;
}

json_t *gc_patch_remove_refs(const gc_meta_t *m, const bool *drop)
{
    if (!m || !drop) return NULL;
    json_t *ops = json_array();
    int failed = !ops;
    for (size_t i = m->n_refs; i-- > 0 && !failed;)
        if (drop[i]) failed = drop_ref_ops(ops, &m->refs[i]);
    return finish(ops, failed);
}

json_t *gc_patch_remove_owner(const gc_meta_t *m, const char *owner_uid)
{
    if (!m || !owner_uid) return NULL;
    json_t *ops = json_array();
    int failed = !ops;
    for (size_t i = m->n_refs; i-- > 0 && !failed;)
        if (strcmp(m->refs[i].uid, owner_uid) == 0) failed = drop_ref_ops(ops, &m->refs[i]);
    return finish(ops, failed);
}

json_t *gc_patch_unblock_refs(const gc_meta_t *m)
{
    if (!m) return NULL;
    json_t *ops = json_array();
    int failed = !ops;
    for (size_t i = 0; i < m->n_refs && !failed; i++) {
        const gc_ref_t *r = &m->refs[i];
        if (!r->block_owner_deletion) continue;
        char path[96];
        snprintf(path, sizeof path, "/metadata/ownerReferences/%d/uid", r->index);
        failed = add_op(ops, "test", path, json_string(r->uid));
        snprintf(path, sizeof path, "/metadata/ownerReferences/%d/blockOwnerDeletion", r->index);
        if (!failed) failed = add_op(ops, "replace", path, json_false());
    }
    return finish(ops, failed);
}

json_t *gc_patch_remove_finalizer(const gc_meta_t *m, const char *name)
{
    if (!m || !name) return NULL;
    json_t *ops = json_array();
    int failed = !ops;
    for (size_t i = m->n_finalizers; i-- > 0 && !failed;) {
        if (strcmp(m->finalizers[i], name) != 0) continue;
        char path[64];
        snprintf(path, sizeof path, "/metadata/finalizers/%zu", i);
        failed = add_op(ops, "test", path, json_string(name));
        if (!failed) failed = add_op(ops, "remove", path, NULL);
    }
    return finish(ops, failed);
}
