/* supervise.h - the supervisor's one loop.
 *
 * Owns: running the worker table: starting workers in order (broker, then
 * informer, then executor, then controllers; each infra worker gets up to
 * SUP_START_GATE_MS to become ready before the next starts), watching their
 * heartbeats and exits, restarting with back-off, killing the hung, and the
 * ordered stop on SIGTERM/SIGINT (controllers, executor, informer, broker;
 * SIGTERM, SIGKILL after SUP_KILL_AFTER_MS; everything gone within 5 s) and
 * on SIGHUP (stop everything the same way, reload the configuration, start
 * again). One thread, one poll(): a signalfd plus every status pipe.
 */
#ifndef KUBUS_SUP_SUPERVISE_H
#define KUBUS_SUP_SUPERVISE_H

#include "config.h"

#define SUP_START_GATE_MS 2000u
#define SUP_KILL_AFTER_MS 3000u
#define SUP_TIER_WAIT_MS 1000u     /* per stop tier before the next one is signalled */
#define SUP_STOP_DEADLINE_MS 4000u /* everything still alive is SIGKILLed by then */

/* Runs until stopped. argc/argv (from index first) are kept for reloads.
 * Returns the process exit code. */
int sup_supervise(const sup_config_t *cfg, int argc, char **argv, int first);

#endif
