/* report.c - /statusz, /metrics and /readyz texts. See report.h. */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "promtext.h"
#include "sbuf.h"

bool sup_worker_is_up(const sup_worker_t *w)
{
    return w->state == SUP_W_UP && w->reported_ready;
}

static void fmt_duration(char *out, size_t len, uint64_t ms)
{
    uint64_t s = ms / 1000;
    if (s < 60)
        snprintf(out, len, "%llus", (unsigned long long)s);
    else if (s < 3600)
        snprintf(out, len, "%llum%llus", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
    else
        snprintf(out, len, "%lluh%llum", (unsigned long long)(s / 3600), (unsigned long long)(s / 60 % 60));
}

static void fmt_last_exit(char *out, size_t len, const sup_worker_t *w)
{
    if (w->last_exit_signal)
        snprintf(out, len, "signal=%d", w->last_exit_signal);
    else if (w->last_exit_code >= 0)
        snprintf(out, len, "code=%d", w->last_exit_code);
    else
        snprintf(out, len, "-");
}

bool sup_worker_needs_lease(const sup_worker_t *w)
{
    return !w->comp->infra || strcmp(w->comp->name, "executor") == 0;
}

static void leader_line(sbuf_t *b, const sup_report_leader_t *ld)
{
    if (!ld->enabled) {
        sbuf_printf(b, "leader: yes (leader election off)\n");
        return;
    }
    sbuf_printf(b, "leader: %s lease=%s identity=%s holder=%s\n", ld->leading ? "yes" : "no",
              ld->lease ? ld->lease : "-", ld->identity && ld->identity[0] ? ld->identity : "-",
              ld->holder && ld->holder[0] ? ld->holder : "-");
}

char *sup_report_statusz(const sup_table_t *t, uint64_t now_ms)
{
    return sup_report_statusz_ex(t, now_ms, NULL);
}

char *sup_report_statusz_ex(const sup_table_t *t, uint64_t now_ms, const sup_report_leader_t *ld)
{
    sbuf_t b = { 0 };
    sbuf_printf(&b, "%-20s %-9s %-8s %-10s %-8s %-8s %s\n", "NAME", "STATE", "PID", "GENERATION",
              "RESTARTS", "UPTIME", "LAST-EXIT");
    for (size_t i = 0; i < t->n; i++) {
        const sup_worker_t *w = &t->w[i];
        char pid[16] = "-", up[32] = "-", last[32];
        if (w->pid > 0) snprintf(pid, sizeof pid, "%d", (int)w->pid);
        if (sup_wstate_running(w->state) && w->started_ms)
            fmt_duration(up, sizeof up, now_ms - w->started_ms);
        fmt_last_exit(last, sizeof last, w);
        sbuf_printf(&b, "%-20s %-9s %-8s %-10u %-8llu %-8s %s\n", w->comp->name,
                  sup_wstate_name(w->state), pid, w->generation, (unsigned long long)w->restarts, up,
                  last);
    }
    if (ld) leader_line(&b, ld);
    return sbuf_take(&b);
}

typedef enum { M_UP, M_RESTARTS, M_GENERATION, M_EXIT_CODE, M_EXIT_SIGNAL, M_PROGRESS } metric_t;

static long long metric_value(const sup_worker_t *w, metric_t m)
{
    switch (m) {
    case M_UP: return sup_worker_is_up(w) ? 1 : 0;
    case M_RESTARTS: return (long long)w->restarts;
    case M_GENERATION: return w->generation;
    case M_EXIT_CODE: return w->last_exit_code;
    case M_EXIT_SIGNAL: return w->last_exit_signal;
    case M_PROGRESS: return (long long)w->progress;
    }
    return 0;
}

static void metric_family(sbuf_t *b, const sup_table_t *t, metric_t m, const char *name,
                          const char *type, const char *help)
{
    sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    for (size_t i = 0; i < t->n; i++)
        sbuf_printf(b, "%s{worker=\"%s\"} %lld\n", name, t->w[i].comp->name, metric_value(&t->w[i], m));
}

char *sup_report_metrics(const sup_table_t *t)
{
    return sup_report_metrics_ex(t, NULL, NULL);
}

/* Label values are names we checked (DNS-1123), so need no escaping. */
static void leader_metrics(sbuf_t *b, const sup_report_leader_t *ld)
{
    sbuf_printf(b, "# HELP kubus_leader 1 when this supervisor leads its shard (runs the executor and "
                 "the controllers).\n# TYPE kubus_leader gauge\nkubus_leader{shard=\"%d\"} %d\n",
              ld->shard_index, ld->leading ? 1 : 0);
    if (!ld->enabled || !ld->lease) return;
    const char *slash = strchr(ld->lease, '/');
    sbuf_printf(b, "# HELP leader_election_master_status [ALPHA] Gauge of if the reporting system is master of the "
                 "relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the "
                 "lease. Please make sure to group by name.\n"
                 "# TYPE leader_election_master_status gauge\n"
                 "leader_election_master_status{name=\"%s\"} %d\n",
              slash ? slash + 1 : ld->lease, ld->leading ? 1 : 0);
}

/* Upstream's feature metric, every known gate with its state. */
static void feature_metrics(sbuf_t *b, const fg_set_t *gates)
{
    sbuf_printf(b, "# HELP kubernetes_feature_enabled [BETA] This metric records the data about the stage "
                   "and enablement of a k8s feature.\n# TYPE kubernetes_feature_enabled gauge\n");
    for (int i = 0; i < FG_GATE_COUNT; i++)
        sbuf_printf(b, "kubernetes_feature_enabled{name=\"%s\",stage=\"%s\"} %d\n", fg_gates[i].name,
                    fg_stage_label(fg_gates[i].stage), fg_enabled(gates, i) ? 1 : 0);
}

/* component-base's build information gauge, filled with what kubus knows. */
static void build_info(sbuf_t *b)
{
    unsigned major = 0, minor = 0;
    if (sscanf(KUBUS_VERSION, "%u.%u", &major, &minor) != 2) major = minor = 0;
    char compiler[160];
    prom_label_value(compiler, sizeof compiler, sup_config_compiler());
    prom_family(b, "kubernetes_build_info", "gauge",
                "[BETA] A metric with a constant '1' value labeled by major, minor, git version, git commit, git tree "
                "state, build date, Go version, and compiler from which Kubernetes was built, and platform on which "
                "it is running.");
    sbuf_printf(b, "kubernetes_build_info{build_date=\"\",compiler=\"%s\",git_commit=\"\",git_tree_state=\"\","
                   "git_version=\"v%s\",go_version=\"\",major=\"%u\",minor=\"%u\",platform=\"%s\"} 1\n",
                compiler, KUBUS_VERSION, major, minor, sup_config_platform());
}

/* controller-manager's running_managed_controllers, one series per controller worker. */
static void managed_controllers(sbuf_t *b, const sup_table_t *t)
{
    prom_family(b, "running_managed_controllers", "gauge",
                "[BETA] Indicates where instances of a controller are currently running");
    for (size_t i = 0; i < t->n; i++) {
        const sup_worker_t *w = &t->w[i];
        if (w->comp->infra || !w->comp->long_name) continue;
        sbuf_printf(b, "running_managed_controllers{manager=\"kube-controller-manager\",name=\"%s\"} %d\n",
                    w->comp->long_name, sup_wstate_running(w->state) ? 1 : 0);
    }
}

char *sup_report_metrics_ex(const sup_table_t *t, const sup_report_leader_t *ld,
                            const fg_set_t *gates)
{
    sbuf_t b = { 0 };
    metric_family(&b, t, M_UP, "kubus_worker_up", "gauge",
                  "1 when the worker runs and its last heartbeat said ready.");
    metric_family(&b, t, M_RESTARTS, "kubus_worker_restarts_total", "counter",
                  "Starts that followed an exit or a hang.");
    metric_family(&b, t, M_GENERATION, "kubus_worker_generation", "gauge",
                  "Starts so far; the --generation of the current process.");
    metric_family(&b, t, M_EXIT_CODE, "kubus_worker_last_exit_code", "gauge",
                  "Exit code of the last run (-1: none, or ended by a signal).");
    metric_family(&b, t, M_EXIT_SIGNAL, "kubus_worker_last_exit_signal", "gauge",
                  "Signal that ended the last run (0: none).");
    metric_family(&b, t, M_PROGRESS, "kubus_worker_progress", "gauge",
                  "The worker's progress counter from its last heartbeat.");
    sbuf_printf(&b, "# HELP kubus_supervisor_malformed_heartbeats_total Status-pipe frames refused.\n"
                  "# TYPE kubus_supervisor_malformed_heartbeats_total counter\n"
                  "kubus_supervisor_malformed_heartbeats_total %llu\n",
              (unsigned long long)t->malformed_heartbeats);
    if (ld) leader_metrics(&b, ld);
    if (gates) feature_metrics(&b, gates);
    build_info(&b);
    managed_controllers(&b, t);
    return sbuf_take(&b);
}
