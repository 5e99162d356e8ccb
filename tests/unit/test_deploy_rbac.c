/* Unit test: deploy/rbac/ grants exactly what executor/policy.c allows.
 *
 * For every controller kubus runs, the ClusterRole kubus:<upstream role> in
 * deploy/rbac/controllers.yaml must allow a (verb, resource, subresource)
 * exactly when policy_check lets that controller's action through, over
 * every resource kubus knows, its subresources and every write verb; and
 * deploy/rbac/informer.yaml must let the informer list and watch each of
 * its default resources. Reads the files from $KUBUS_ROOT (ctest sets it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <yaml.h>

#include "informer.h"
#include "kapi.h"
#include "policy.h"
#include "policy_fixture.h"

#define MAX_DOCS 16

typedef struct {
    yaml_document_t doc[MAX_DOCS];
    int n;
} docs_t;

static void load_docs(const char *rel, docs_t *d)
{
    const char *root = getenv("KUBUS_ROOT");
    assert_non_null(root);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "re");
    if (!f) fail_msg("cannot open %s", path);
    yaml_parser_t p;
    assert_true(yaml_parser_initialize(&p));
    yaml_parser_set_input_file(&p, f);
    d->n = 0;
    for (;;) {
        assert_true(d->n < MAX_DOCS);
        if (!yaml_parser_load(&p, &d->doc[d->n])) fail_msg("%s: YAML error: %s", path, p.problem);
        if (!yaml_document_get_root_node(&d->doc[d->n])) {
            yaml_document_delete(&d->doc[d->n]);
            break;
        }
        d->n++;
    }
    yaml_parser_delete(&p);
    fclose(f);
}

static void free_docs(docs_t *d)
{
    for (int i = 0; i < d->n; i++) yaml_document_delete(&d->doc[i]);
}

static yaml_node_t *get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* True when the sequence node seq holds want or "*". */
static bool seq_has(yaml_document_t *doc, yaml_node_t *seq, const char *want)
{
    if (!seq || seq->type != YAML_SEQUENCE_NODE) return false;
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
        const char *v = scalar(yaml_document_get_node(doc, *i));
        if (v && (strcmp(v, want) == 0 || strcmp(v, "*") == 0)) return true;
    }
    return false;
}

/* The rules node of the role named name, or NULL. */
static yaml_node_t *role_rules(docs_t *d, const char *name, yaml_document_t **doc)
{
    for (int i = 0; i < d->n; i++) {
        yaml_node_t *root = yaml_document_get_root_node(&d->doc[i]);
        const char *n = scalar(get(&d->doc[i], get(&d->doc[i], root, "metadata"), "name"));
        if (n && strcmp(n, name) == 0) {
            *doc = &d->doc[i];
            return get(&d->doc[i], root, "rules");
        }
    }
    return NULL;
}

/* RBAC's decision: does a rule allow verb on group resource[/sub]? */
static bool rbac_allows(yaml_document_t *doc, yaml_node_t *rules, const char *group, const char *resource,
                        const char *sub, const char *verb)
{
    char full[128];
    snprintf(full, sizeof full, "%s%s%s", resource, *sub ? "/" : "", sub);
    for (yaml_node_item_t *i = rules->data.sequence.items.start; i < rules->data.sequence.items.top; i++) {
        yaml_node_t *r = yaml_document_get_node(doc, *i);
        if (seq_has(doc, get(doc, r, "apiGroups"), group) && seq_has(doc, get(doc, r, "resources"), full) &&
            seq_has(doc, get(doc, r, "verbs"), verb))
            return true;
    }
    return false;
}

static void group_of(const kapi_resource_t *r, char *out, size_t len)
{
    const char *slash = strchr(r->group_version, '/');
    snprintf(out, len, "%.*s", slash ? (int)(slash - r->group_version) : 0, r->group_version);
}

static const char *const controllers[] = { "replicaset", "deployment", "statefulset", "daemonset",
                                           "job", "cronjob", "ttl-after-finished", "garbagecollector" };
static const struct { int verb; const char *rbac; } verbs[] = {
    { KUBUS__V1__VERB__GET, "get" },       { KUBUS__V1__VERB__CREATE, "create" },
    { KUBUS__V1__VERB__UPDATE, "update" }, { KUBUS__V1__VERB__PATCH, "patch" },
    { KUBUS__V1__VERB__DELETE, "delete" },
};
static const char *const subs[] = { "", "status", "finalizers", "binding", "scale" };

static bool policy_allows(const char *c, int verb, const char *resource, const char *sub)
{
    msg_action_t a = policy_fx_action(c, verb, resource, sub);
    char err[256];
    return policy_check(&a, err, sizeof err) == 0;
}

static void check_controller(docs_t *d, const char *c)
{
    const char *upstream = policy_role(c);
    assert_non_null(upstream);
    char name[128];
    snprintf(name, sizeof name, "kubus:%s", upstream);
    yaml_document_t *doc = NULL;
    yaml_node_t *rules = role_rules(d, name, &doc);
    if (!rules || rules->type != YAML_SEQUENCE_NODE) fail_msg("no ClusterRole %s with rules", name);
    const kapi_resource_t *const *all = kapi_resources();
    for (size_t i = 0; all[i]; i++) {
        char group[64];
        group_of(all[i], group, sizeof group);
        for (size_t s = 0; s < sizeof subs / sizeof subs[0]; s++)
            for (size_t v = 0; v < sizeof verbs / sizeof verbs[0]; v++) {
                bool p = policy_allows(c, verbs[v].verb, all[i]->resource, subs[s]);
                bool r = rbac_allows(doc, rules, group, all[i]->resource, subs[s], verbs[v].rbac);
                if (p != r)
                    fail_msg("%s: %s %s%s%s: policy.c %s, %s %s", c, verbs[v].rbac, all[i]->resource,
                             *subs[s] ? "/" : "", subs[s], p ? "allows" : "refuses", name,
                             r ? "allows" : "refuses");
            }
    }
    /* An event action is a create of events, which every role allows. */
    assert_true(policy_allows(c, KUBUS__V1__VERB__EVENT, "", ""));
    assert_true(rbac_allows(doc, rules, "", "events", "", "create"));
}

static void test_controller_roles_match_policy(void **state)
{
    (void)state;
    docs_t d;
    load_docs("deploy/rbac/controllers.yaml", &d);
    assert_int_equal(d.n, (int)(sizeof controllers / sizeof controllers[0]));
    for (size_t i = 0; i < sizeof controllers / sizeof controllers[0]; i++) check_controller(&d, controllers[i]);
    free_docs(&d);
}

static void test_informer_role_lists_and_watches(void **state)
{
    (void)state;
    docs_t d;
    load_docs("deploy/rbac/informer.yaml", &d);
    yaml_document_t *doc = NULL;
    yaml_node_t *rules = role_rules(&d, "kubus:informer", &doc);
    assert_non_null(rules);
    char csv[] = INFORMER_DEFAULT_RESOURCES;
    char *save = NULL;
    for (char *res = strtok_r(csv, ",", &save); res; res = strtok_r(NULL, ",", &save)) {
        const kapi_resource_t *r = kapi_resource(res);
        if (!r) fail_msg("informer resource %s unknown to kapi", res);
        char group[64];
        group_of(r, group, sizeof group);
        if (!rbac_allows(doc, rules, group, res, "", "list") || !rbac_allows(doc, rules, group, res, "", "watch"))
            fail_msg("kubus:informer may not list and watch %s", res);
        if (rbac_allows(doc, rules, group, res, "", "get") || rbac_allows(doc, rules, group, res, "", "create"))
            fail_msg("kubus:informer grants more than list and watch on %s", res);
    }
    free_docs(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_controller_roles_match_policy),
        cmocka_unit_test(test_informer_role_lists_and_watches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
