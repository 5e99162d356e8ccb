/* route.h - what the broker accepts on each of its paths.
 *
 * Owns: the checks that tie a message's frames to its envelope, so a
 * mis-addressed message is refused at the broker instead of confusing a
 * receiver: a published event must sit under the topic its resource and
 * namespace give, a batch under its resource's topic; a controller may only speak for itself (the `controller`
 * field equals the "<controller>" part of its routing id
 * "<controller>.<shard>"); the executor's results go to the controller they
 * name. Pure functions over bytes and decoded envelopes.
 */
#ifndef KUBUS_BROKER_ROUTE_H
#define KUBUS_BROKER_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "batch.h"
#include "msg.h"

/* True when id is "<controller>.<suffix>" with a non-empty suffix. */
bool broker_id_is_controller(const void *id, size_t idlen, const char *controller);
/* [topic][envelope] from a publisher. 0, or -1 with a reason. */
int broker_check_publish(const void *topic, size_t topiclen, const msg_envelope_t *env,
                         char *err, size_t errlen);
/* [topic][EventBatch envelope] from a publisher, by its header only
 * (batch_header_read): the topic must be "E/<resource>/". 0 or -1. */
int broker_check_batch(const void *topic, size_t topiclen, const batch_header_t *h, char *err, size_t errlen);
/* [envelope] from the controller with routing id `id`: an Action or an
 * InflightQuery naming that controller. 0 or -1. */
int broker_check_from_controller(const void *id, size_t idlen, const msg_envelope_t *env,
                                 char *err, size_t errlen);
/* [controller-id][envelope] from the executor: an ActionResult or an
 * InflightReport naming that controller. 0 or -1. */
int broker_check_to_controller(const void *id, size_t idlen, const msg_envelope_t *env,
                               char *err, size_t errlen);
/* A subscription message from a subscriber: [0|1][topic prefix]. */
bool broker_is_subscription(const void *frame, size_t len);

#endif
