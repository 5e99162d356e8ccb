/* kcmflags.h - kube-controller-manager's flags that mean nothing to kubus.
 *
 * Owns: the one table of the kube-controller-manager v1.36.3 flags that
 * kubus accepts without acting on them, so a manifest written for upstream
 * keeps working; the check of their values by the type upstream gives them
 * (a bad value is still refused, as upstream refuses it); and the reason,
 * for the one-line notice, why each changes nothing. The list comes from
 * upstream's cmd/kube-controller-manager/app/options and the option sets it
 * embeds (controller-manager generic, cloud-provider, apiserver serving,
 * authentication and authorization, component-base metrics, logs,
 * compatibility). The flags kubus acts on live in config.c and logcfg.h.
 */
#ifndef KUBUS_SUP_KCMFLAGS_H
#define KUBUS_SUP_KCMFLAGS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    KCM_BOOL,          /* value only as --flag=BOOL; bare means true */
    KCM_INT,           /* a 32-bit integer */
    KCM_FLOAT,
    KCM_DURATION,      /* Go syntax: 10s, 1m30s, 500ms, -1s, 0 */
    KCM_STRING,        /* strings and lists: any value */
    KCM_PORT,          /* 0..65535 */
    KCM_CONTENT_TYPE,  /* application/json or application/vnd.kubernetes.protobuf */
} kcm_kind_t;

typedef struct {
    const char *name;
    kcm_kind_t kind;
    const char *why;   /* completes "no effect in kubus: ..." */
} kcm_flag_t;

#define KCM_IGNORED_COUNT 118

const kcm_flag_t *kcm_flag(size_t i);
/* Index in the table, or -1. */
int kcm_flag_lookup(const char *name);
/* Checks a value for flag i (value: inline or the next argument, NULL if
 * none). *took: the value was used. 0, or -1 with a reason naming the flag. */
int kcm_flag_check(size_t i, const char *value, bool inline_value, bool *took, char *err,
                   size_t errlen);

#endif
