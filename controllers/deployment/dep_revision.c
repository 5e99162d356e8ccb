/* dep_revision.c - revision annotations and history clean-up (see dep_revision.h). */
#include "dep_revision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"

int dep_parse_int64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return -1;
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (!*s)
        return -1;
    uint64_t v = 0;
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (limit - d) / 10u)
            return -1;
        v = v * 10u + d;
    }
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return 0;
}

static const char *const skipped[] = {
    DEP_ANN_LAST_APPLIED,       DEP_ANN_REVISION,     DEP_ANN_REVISION_HISTORY,
    DEP_ANN_DESIRED_REPLICAS,   DEP_ANN_MAX_REPLICAS, DEP_ANN_ROLLBACK_TO,
};

bool dep_annotation_skipped(const char *key)
{
    for (size_t i = 0; i < sizeof skipped / sizeof skipped[0]; i++)
        if (strcmp(key, skipped[i]) == 0)
            return true;
    return false;
}

int64_t dep_max_revision(dep_rs_t *const *rs, size_t n)
{
    int64_t max = 0;
    for (size_t i = 0; i < n; i++)
        if (rs[i] && rs[i]->has_revision && rs[i]->revision > max)
            max = rs[i]->revision;
    return max;
}

bool dep_set_annotation(json_t *ann, const char *key, const char *value)
{
    json_t *cur = json_object_get(ann, key);
    if (json_is_string(cur) && strcmp(json_string_value(cur), value) == 0)
        return false;
    return json_object_set_new(ann, key, json_string(value)) == 0;
}

static bool copy_deployment_annotations(const json_t *deployment, json_t *rs_ann)
{
    bool changed = false;
    const char *k;
    json_t *v;
    json_object_foreach(kobj_annotations(deployment), k, v) {
        if (!json_is_string(v) || dep_annotation_skipped(k))
            continue;
        changed |= dep_set_annotation(rs_ann, k, json_string_value(v));
    }
    return changed;
}

/* Appends old_revision to the comma-separated history, dropping the oldest
 * entries to stay within DEP_REVISION_HISTORY_MAX_CHARS (upstream keeps the
 * history unchanged when even that cannot make it fit). */
static void append_history(json_t *rs_ann, const char *old_revision)
{
    json_t *h = json_object_get(rs_ann, DEP_ANN_REVISION_HISTORY);
    const char *hist = json_is_string(h) ? json_string_value(h) : "";
    if (!hist[0] || hist[0] == ',') {
        /* strings.Split("" or ",...")[0] is empty: upstream starts over. */
        dep_set_annotation(rs_ann, DEP_ANN_REVISION_HISTORY, old_revision);
        return;
    }
    size_t total = strlen(hist) + strlen(old_revision) + 1;
    const char *start = hist;
    while (total > DEP_REVISION_HISTORY_MAX_CHARS && start) {
        const char *comma = strchr(start, ',');
        size_t part = comma ? (size_t)(comma - start) : strlen(start);
        total -= part + 1;
        start = comma ? comma + 1 : NULL;
    }
    if (total > DEP_REVISION_HISTORY_MAX_CHARS)
        return;
    size_t keep = start ? strlen(start) : 0;
    char *joined = malloc(keep + strlen(old_revision) + 2);
    if (!joined)
        return;
    if (keep)
        sprintf(joined, "%s,%s", start, old_revision);
    else
        strcpy(joined, old_revision);
    dep_set_annotation(rs_ann, DEP_ANN_REVISION_HISTORY, joined);
    free(joined);
}

bool dep_set_new_rs_annotations(const json_t *deployment, json_t *rs_ann, int64_t new_revision,
                                bool exists, int32_t desired, int32_t max_replicas)
{
    bool changed = copy_deployment_annotations(deployment, rs_ann);
    json_t *cur = json_object_get(rs_ann, DEP_ANN_REVISION);
    bool had = cur != NULL;
    const char *old = json_is_string(cur) ? json_string_value(cur) : "";
    int64_t old_rev = 0;
    if (old[0] && dep_parse_int64(old, &old_rev) != 0)
        return false;
    if (old_rev < new_revision) {
        char buf[24];
        snprintf(buf, sizeof buf, "%lld", (long long)new_revision);
        if (had)
            append_history(rs_ann, old);
        /* set after reading `old`: it points into the value replaced here */
        dep_set_annotation(rs_ann, DEP_ANN_REVISION, buf);
        changed = true;
    }
    if (!exists && dep_set_replicas_annotations(rs_ann, desired, max_replicas))
        changed = true;
    return changed;
}

bool dep_set_replicas_annotations(json_t *ann, int32_t desired, int32_t max_replicas)
{
    char d[16], m[16];
    snprintf(d, sizeof d, "%d", desired);
    snprintf(m, sizeof m, "%d", max_replicas);
    bool changed = dep_set_annotation(ann, DEP_ANN_DESIRED_REPLICAS, d);
    changed |= dep_set_annotation(ann, DEP_ANN_MAX_REPLICAS, m);
    return changed;
}

static bool annotation_is(const json_t *ann, const char *key, const char *want)
{
    json_t *v = json_object_get(ann, key);
    return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

bool dep_replicas_annotations_need_update(const json_t *ann, int32_t desired, int32_t max_replicas)
{
    char d[16], m[16];
    snprintf(d, sizeof d, "%d", desired);
    snprintf(m, sizeof m, "%d", max_replicas);
    return !annotation_is(ann, DEP_ANN_DESIRED_REPLICAS, d) ||
           !annotation_is(ann, DEP_ANN_MAX_REPLICAS, m);
}

size_t dep_history_to_delete(const dep_spec_t *s, dep_rs_t **old, size_t n, dep_rs_t **out)
{
    if (!s->has_history_limit)
        return 0;
    /* ReplicaSets already being deleted do not count against the limit. */
    size_t alive = 0;
    for (size_t i = 0; i < n; i++)
        if (old[i] && !old[i]->deleting)
            old[alive++] = old[i];
    if ((int64_t)alive <= s->history_limit)
        return 0;
    size_t diff = alive - (size_t)s->history_limit;
    qsort(old, alive, sizeof old[0], dep_rs_cmp_by_revision);
    size_t k = 0;
    for (size_t i = 0; i < diff; i++) {
        const dep_rs_t *rs = old[i];
        /* Never a ReplicaSet that has, or may still get, pods. */
        if (rs->status_replicas != 0 || rs->spec_replicas != 0 ||
            rs->generation > rs->observed_generation || rs->deleting)
            continue;
        out[k++] = old[i];
    }
    return k;
}
