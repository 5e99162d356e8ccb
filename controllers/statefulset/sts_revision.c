/* sts_revision.c - ControllerRevisions of a StatefulSet. See sts_revision.h. */
#include "sts_revision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/hashname.h"
#include "ctrl/kobj.h"

json_t *sts_revision_data(const json_t *sts)
{
    const json_t *tmpl = kobj_get(sts, "spec.template");
    if (!json_is_object(tmpl)) return NULL;
    json_t *t = json_deep_copy(tmpl);
    if (!t) return NULL;
    json_object_set_new(t, "$patch", json_string("replace"));
    return json_pack("{s:{s:o}}", "spec", "template", t);
}

/* Go's encoder escapes <, >, & and U+2028/U+2029 inside strings; they can
 * only occur inside strings in compact JSON, so a byte rewrite suffices. */
char *sts_go_json(const json_t *v)
{
    char *raw = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!raw) return NULL;
    size_t n = strlen(raw), extra = 0;
    for (size_t i = 0; i < n; i++) extra += (raw[i] == '<' || raw[i] == '>' || raw[i] == '&') ? 5 : 0;
    for (size_t i = 0; i + 2 < n; i++)
        if ((unsigned char)raw[i] == 0xE2 && (unsigned char)raw[i + 1] == 0x80 &&
            ((unsigned char)raw[i + 2] == 0xA8 || (unsigned char)raw[i + 2] == 0xA9))
            extra += 3;
    if (!extra) return raw;
    char *out = malloc(n + extra + 1), *o = out;
    if (!out) { free(raw); return NULL; }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '<' || c == '>' || c == '&') {
            o += sprintf(o, "\\u00%02x", c);
        } else if (c == 0xE2 && i + 2 < n && (unsigned char)raw[i + 1] == 0x80 &&
                   ((unsigned char)raw[i + 2] == 0xA8 || (unsigned char)raw[i + 2] == 0xA9)) {
            o += sprintf(o, "\\u%s", (unsigned char)raw[i + 2] == 0xA8 ? "2028" : "2029");
            i += 2;
        } else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    free(raw);
    return out;
}

int sts_revision_hash(const json_t *data, int32_t collision, char *out, size_t outlen)
{
    char *s = sts_go_json(data);
    if (!s || outlen < STS_HASH_MAX) { free(s); return -1; }
    int rc = ctrl_revision_hash(s, &collision, out, outlen);
    free(s);
    return rc;
}

int sts_revision_name(char *out, size_t outlen, const char *set_name, const char *hash)
{
    int n = snprintf(out, outlen, "%.223s-%s", set_name, hash);
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

json_t *sts_revision_new(const json_t *sts, const json_t *data, const char *name, const char *hash, int64_t revision)
{
    const json_t *tl = kobj_get(sts, "spec.template.metadata.labels");
    json_t *labels = json_is_object(tl) ? json_deep_copy(tl) : json_object();
    json_t *ann = kobj_annotations(sts);
    json_t *ref = kobj_new_controller_ref("apps/v1", "StatefulSet", sts);
    if (!labels || !ref) { json_decref(labels); json_decref(ref); return NULL; }
    json_object_set_new(labels, STS_REVISION_HASH_LABEL, json_string(hash));
    json_t *meta = json_pack("{s:s, s:s, s:o, s:[o]}", "name", name, "namespace", kobj_namespace(sts),
                             "labels", labels, "ownerReferences", ref);
    if (!meta) return NULL;
    if (json_is_object(ann) && json_object_size(ann)) json_object_set_new(meta, "annotations", json_deep_copy(ann));
    return json_pack("{s:s, s:s, s:o, s:O, s:I}", "apiVersion", "apps/v1", "kind", "ControllerRevision",
                     "metadata", meta, "data", data, "revision", (json_int_t)revision);
}

const json_t *sts_revision_template(const json_t *rev)
{
    const json_t *t = kobj_get(rev, "data.spec.template");
    return json_is_object(t) ? t : NULL;
}

static int rev_cmp(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    int64_t rx = kobj_int(x, "revision", 0), ry = kobj_int(y, "revision", 0);
    if (rx != ry) return rx < ry ? -1 : 1;
    int64_t cx = kobj_creation_time(x), cy = kobj_creation_time(y);
    if (cx != cy) return cx < cy ? -1 : 1;
    return strcmp(kobj_name(x), kobj_name(y));
}

void sts_revisions_sort(const json_t **revs, size_t n)
{
    if (n > 1) qsort(revs, n, sizeof *revs, rev_cmp);
}
