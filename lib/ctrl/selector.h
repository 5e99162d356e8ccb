/* selector.h - metav1.LabelSelector: compile once, match many label sets.
 *
 * Owns: the label-selector semantics of apimachinery's
 * LabelSelectorAsSelector and labels.Selector.Matches:
 *   - matchLabels k: v          means  label k exists and equals v;
 *   - In (values non-empty)      label exists and its value is one of values;
 *   - NotIn (values non-empty)   label absent, or its value is none of values;
 *   - Exists / DoesNotExist      (values must be empty);
 *   - all requirements are ANDed.
 * A JSON null / absent selector compiles to "nothing" (matches no object);
 * {} (no matchLabels, no matchExpressions) compiles to "everything".
 * Controllers must NOT adopt with an empty selector: apps/v1 validation
 * rejects it, and the upstream controllers treat such an owner as selecting
 * nothing when mapping pods to owners (selector_is_empty tells it).
 * Keys must be valid qualified names ([prefix/]name, name <= 63 chars of
 * [A-Za-z0-9-_.] starting/ending alphanumeric, prefix a DNS-1123 subdomain
 * <= 253) and values valid label values (<= 63, same charset, may be empty);
 * anything else is an error naming the offending field.
 *
 * Cost: compile O(requirements + values); match O(requirements * values)
 * with one json_object_get per requirement. A compiled selector is
 * immutable and owns copies of its strings.
 */
#ifndef KUBUS_CTRL_SELECTOR_H
#define KUBUS_CTRL_SELECTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct selector selector_t;

/* Compiles a LabelSelector JSON object (spec.selector). NULL/json null
 * gives a "nothing" selector. Returns NULL and writes a reason into err for
 * an invalid selector (bad operator, values for Exists, empty values for In,
 * invalid key or value, wrong JSON types). */
selector_t *selector_compile(const json_t *spec, char *err, size_t errlen);
/* Builds the selector "every label of this set, with this value" (a
 * template's labels as a selector); NULL labels: everything. Errors as above. */
selector_t *selector_from_labels(const json_t *labels, char *err, size_t errlen);
void selector_destroy(selector_t **sel);

/* labels: a JSON object of string values (metadata.labels), or NULL (no
 * labels). Non-string values are treated as absent. */
bool selector_matches(const selector_t *sel, const json_t *labels);
/* True for {} (selects everything). */
bool selector_is_empty(const selector_t *sel);
/* True for the null selector (selects nothing). */
bool selector_is_nothing(const selector_t *sel);
/* Text form like labels.Selector.String(): "a=b,c in (d,e),!f". Length
 * written (truncated to outlen-1). */
int selector_string(const selector_t *sel, char *out, size_t outlen);

/* Validators shared with other code. */
bool selector_valid_key(const char *key);
bool selector_valid_value(const char *value);

#endif
