/* ds_history.h - a DaemonSet's ControllerRevisions.
 *
 * Owns: what upstream's daemon/update.go keeps as history, as pure
 * functions:
 *   - the data a revision stores: the strategic-merge patch
 *     {"spec":{"template":{...template..., "$patch":"replace"}}} that
 *     `kubectl rollout undo` applies to restore the template;
 *   - whether a revision holds the DaemonSet's current template (upstream
 *     compares the patch bytes; we compare the templates as JSON values,
 *     with nulls and empty arrays dropped, which is the same test for
 *     objects the API server serialised);
 *   - the revision's name "<ds>-<hash>" and its controller-revision-hash
 *     label. The hash is upstream's ComputeHash (lib/ctrl/hashname.h) of
 *     the template's canonical JSON and the collisionCount. It does not
 *     equal upstream's (a hash of a Go struct dump) and need not: revisions
 *     are matched by content, the hash only names them;
 *   - the revision object to create (template labels + hash label, the
 *     DaemonSet's annotations, controller ownerReference, revision number);
 *   - which old revisions the revisionHistoryLimit lets go.
 */
#ifndef KUBUS_DS_HISTORY_H
#define KUBUS_DS_HISTORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctrl/hashname.h"

#define DS_LABEL_HASH "controller-revision-hash"
#define DS_HASH_MAX CTRL_HASH_MAX

/* The patch a revision of ds stores (new reference) or NULL. */
json_t *ds_history_patch(const json_t *ds);
/* Does revision cr hold ds's current template? */
bool ds_history_matches(const json_t *ds, const json_t *cr);
/* Hash of a template (collision NULL: no collisionCount). 0 or -1. */
int ds_template_hash(const json_t *tmpl, const int32_t *collision, char *out, size_t outlen);
/* The ControllerRevision to create for ds (name "<ds>-<hash>"). NULL on OOM. */
json_t *ds_history_new(const json_t *ds, const char *hash, int64_t revision);
/* cr.revision (0 if absent). */
int64_t ds_history_revision(const json_t *cr);
/* The hash a revision stands for: its controller-revision-hash label (its
 * name when the label is missing, as upstream relabels it). */
const char *ds_history_hash(const json_t *cr);

/* Old revisions to delete: oldest revision first, skipping those whose hash
 * a live pod still carries (live_hashes: object used as a set), until only
 * `keep` old ones would remain. old is reordered; the chosen ones are
 * written to out (room for n). Returns how many. */
size_t ds_history_to_delete(const json_t **old, size_t n, int64_t keep, const json_t *live_hashes,
                            const json_t **out);

#endif
