/* dep_template.c - template equality and pod-template-hash (see dep_template.h). */
#include "dep_template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dep_rs.h"

/* Removes nulls and empty arrays below v, depth first (so an array that
 * only held nulls goes too). */
static void strip_noise(json_t *v)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        void *tmp;
        json_object_foreach_safe(v, tmp, k, c) {
            strip_noise(c);
            if (json_is_null(c) || (json_is_array(c) && json_array_size(c) == 0))
                json_object_del(v, k);
        }
    } else if (json_is_array(v)) {
        for (size_t i = json_array_size(v); i-- > 0;) {
            json_t *c = json_array_get(v, i);
            strip_noise(c);
            if (json_is_null(c))
                json_array_remove(v, i);
        }
    }
}

static void drop_if_empty_object(json_t *parent, const char *key)
{
    json_t *v = json_object_get(parent, key);
    if (json_is_object(v) && json_object_size(v) == 0)
        json_object_del(parent, key);
}

json_t *dep_template_canonical(const json_t *tmpl)
{
    if (!json_is_object(tmpl))
        return NULL;
    json_t *c = json_deep_copy(tmpl);
    if (!c)
        return NULL;
    json_t *meta = json_object_get(c, "metadata");
    if (json_is_object(meta)) {
        json_t *labels = json_object_get(meta, "labels");
        if (json_is_object(labels))
            json_object_del(labels, DEP_LABEL_HASH);
    }
    strip_noise(c);
    meta = json_object_get(c, "metadata");
    if (json_is_object(meta)) {
        drop_if_empty_object(meta, "labels");
        drop_if_empty_object(meta, "annotations");
    }
    drop_if_empty_object(c, "metadata");
    return c;
}

bool dep_template_equal(const json_t *a, const json_t *b)
{
    json_t *ca = dep_template_canonical(a), *cb = dep_template_canonical(b);
    bool eq = ca && cb && json_equal(ca, cb);
    json_decref(ca);
    json_decref(cb);
    return eq;
}

int dep_template_hash(const json_t *tmpl, const int32_t *collision, char *out, size_t outlen)
{
    if (outlen < DEP_HASH_MAX)
        return -1;
    json_t *c = dep_template_canonical(tmpl);
    if (!c)
        return -1;
    char *text = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_decref(c);
    if (!text)
        return -1;
    int rc = ctrl_compute_hash(text, collision, out, outlen);
    free(text);
    return rc;
}
