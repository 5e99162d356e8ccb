/* ds_history.c - ControllerRevision data, matching, naming, cleanup (see ds_history.h). */
#include "ds_history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A deep copy whose objects hold their keys in byte order (jansson keeps
 * insertion order when dumping): the bytes Go's json.Marshal of a map
 * gives, which is how upstream writes the data and how the API server
 * re-encodes it when a revision is patched. */
static json_t *sorted_copy(const json_t *v)
{
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) {
            if (!out || json_array_append_new(out, sorted_copy(c)) < 0) { json_decref(out); return NULL; }
        }
        return out;
    }
    if (!json_is_object(v)) return json_deep_copy(v);
    size_t n = json_object_size(v), k = 0;
    const char **keys = malloc((n ? n : 1) * sizeof *keys);
    json_t *out = json_object();
    const char *key;
    json_t *c;
    if (!keys || !out) goto fail;
    json_object_foreach((json_t *)v, key, c) keys[k++] = key;
    qsort(keys, n, sizeof *keys, cmp_keys);
    for (size_t i = 0; i < n; i++) {
        json_t *cc = sorted_copy(json_object_get(v, keys[i]));
        if (!cc || json_object_set_new(out, keys[i], cc) < 0) goto fail;
    }
    free(keys);
    return out;
fail:
    free(keys);
    json_decref(out);
    return NULL;
}

json_t *ds_history_patch(const json_t *ds)
{
    json_t *tmpl = kobj_get(ds, "spec.template");
    if (!json_is_object(tmpl)) return NULL;
    json_t *copy = json_deep_copy(tmpl);
    if (!copy || json_object_set_new(copy, "$patch", json_string("replace")) < 0) {
        json_decref(copy);
        return NULL;
    }
    json_t *patch = json_pack("{s:{s:o}}", "spec", "template", copy);
    json_t *sorted = patch ? sorted_copy(patch) : NULL;
    json_decref(patch);
    return sorted;
}

/* Drops nulls and empty arrays (nil and empty are the same to Go's
 * encoder with omitempty) so two serialisations of one template compare
 * equal. */
static void strip_noise(json_t *v)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        void *tmp;
        json_object_foreach_safe(v, tmp, k, c) {
            strip_noise(c);
            if (json_is_null(c) || (json_is_array(c) && json_array_size(c) == 0)) json_object_del(v, k);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) strip_noise(c);
    }
}

static json_t *canonical(const json_t *tmpl)
{
    if (!json_is_object(tmpl)) return NULL;
    json_t *c = json_deep_copy(tmpl);
    if (!c) return NULL;
    json_object_del(c, "$patch");
    strip_noise(c);
    return c;
}

bool ds_history_matches(const json_t *ds, const json_t *cr)
{
    json_t *a = canonical(kobj_get(ds, "spec.template"));
    json_t *b = canonical(kobj_get(cr, "data.spec.template"));
    bool eq = a && b && json_equal(a, b);
    json_decref(a);
    json_decref(b);
    return eq;
}

int ds_template_hash(const json_t *tmpl, const int32_t *collision, char *out, size_t outlen)
{
    if (outlen < DS_HASH_MAX) return -1;
    json_t *c = canonical(tmpl);
    char *text = c ? json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(c);
    if (!text) return -1;
    int rc = ctrl_compute_hash(text, collision, out, outlen);
    free(text);
    return rc;
}

json_t *ds_history_new(const json_t *ds, const char *hash, int64_t revision)
{
    char name[320];
    if (snprintf(name, sizeof name, "%s-%s", kobj_name(ds), hash) >= (int)sizeof name) return NULL;
    json_t *labels = json_deep_copy(kobj_get(ds, "spec.template.metadata.labels"));
    if (!json_is_object(labels)) {
        json_decref(labels);
        labels = json_object();
    }
    json_t *ref = kobj_new_controller_ref("apps/v1", "DaemonSet", ds);
    json_t *data = ds_history_patch(ds);
    json_t *meta = json_pack("{s:s, s:s, s:o, s:[o]}", "name", name, "namespace", kobj_namespace(ds), "labels",
                             labels, "ownerReferences", ref);
    if (!meta || !data || json_object_set_new(labels, DS_LABEL_HASH, json_string(hash)) < 0) {
        json_decref(meta);
        json_decref(data);
        return NULL;
    }
    json_t *ann = kobj_annotations(ds);
    if (json_object_size(ann) > 0) json_object_set_new(meta, "annotations", json_deep_copy(ann));
    return json_pack("{s:s, s:s, s:o, s:o, s:I}", "apiVersion", "apps/v1", "kind", "ControllerRevision", "metadata",
                     meta, "data", data, "revision", (json_int_t)revision);
}

int64_t ds_history_revision(const json_t *cr)
{
    return kobj_int(cr, "revision", 0);
}

const char *ds_history_hash(const json_t *cr)
{
    const char *h = kobj_label(cr, DS_LABEL_HASH);
    return h && *h ? h : kobj_name(cr);
}

static int by_revision(const void *a, const void *b)
{
    int64_t ra = ds_history_revision(*(const json_t *const *)a), rb = ds_history_revision(*(const json_t *const *)b);
    return ra < rb ? -1 : ra > rb;
}

size_t ds_history_to_delete(const json_t **old, size_t n, int64_t keep, const json_t *live_hashes,
                            const json_t **out)
{
    if (keep < 0) keep = 0;
    if ((int64_t)n <= keep) return 0;
    int64_t to_kill = (int64_t)n - keep;
    qsort(old, n, sizeof *old, by_revision);
    size_t k = 0;
    for (size_t i = 0; i < n && to_kill > 0; i++) {
        if (json_object_get(live_hashes, ds_history_hash(old[i]))) continue;
        out[k++] = old[i];
        to_kill--;
    }
    return k;
}
