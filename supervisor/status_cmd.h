/* status_cmd.h - `kubus-controller-manager status`: print a running
 * supervisor's /statusz table. */
#ifndef KUBUS_SUP_STATUS_CMD_H
#define KUBUS_SUP_STATUS_CMD_H

/* argv[0] is "status". Returns the exit code: 0 printed, 1 not reachable or
 * not 200, 2 bad flags. */
int sup_status_main(int argc, char **argv);

#endif
