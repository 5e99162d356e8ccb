/* main.c - kubus-controller-manager: parse the configuration and supervise,
 * or run the `status` subcommand. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "status_cmd.h"
#include "supervise.h"

static const char *prog_name(const char *argv0)
{
    const char *s = argv0 ? strrchr(argv0, '/') : NULL;
    return s ? s + 1 : (argv0 ? argv0 : "kubus-controller-manager");
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "status") == 0) return sup_status_main(argc - 1, argv + 1);
    static sup_config_t cfg;
    char err[512];
    sup_config_rc_t rc = sup_config_load(&cfg, argc, argv, 1, err, sizeof err);
    if (rc == SUP_CONFIG_HELP) {
        sup_config_usage(stdout, prog_name(argv[0]));
        return 0;
    }
    if (rc == SUP_CONFIG_VERSION) {
        sup_config_print_version(stdout, cfg.version == 2);
        return 0;
    }
    if (rc != SUP_CONFIG_OK) {
        fprintf(stderr, "%s: %s\n(see --help)\n", prog_name(argv[0]), err);
        return 2;
    }
    /* Like upstream's own lines: no logger name (controllers have theirs). */
    logcfg_apply(&cfg.log, "");
    sup_config_log_notices(&cfg);
    return sup_supervise(&cfg, argc, argv, 1);
}
