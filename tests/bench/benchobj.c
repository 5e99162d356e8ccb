/* benchobj.c - bench pods of an exact size. See benchobj.h. */
#include "benchobj.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POD_FMT                                                                                              \
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","          \
    "\"uid\":\"00000000-0000-4000-8000-%012" PRIu64 "\",\"resourceVersion\":\"%" PRIu64 "\","               \
    "\"labels\":{\"app\":\"kubus-bench\"},\"annotations\":{\"kubus.bench/pad\":\"%s\"}},"                    \
    "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"registry.k8s.io/pause:3.9\"}],"                   \
    "\"nodeSelector\":{\"kubernetes.io/hostname\":\"nowhere\"}},\"status\":{\"phase\":\"Pending\"}}"

void benchobj_name(char *out, size_t outlen, uint64_t i)
{
    snprintf(out, outlen, "bench-%08" PRIu64, i);
}

char *benchobj_pod(const char *ns, uint64_t i, uint64_t rv, size_t size, size_t *len)
{
    char name[32];
    benchobj_name(name, sizeof name, i);
    int base = snprintf(NULL, 0, POD_FMT, name, ns, i, rv, "");
    if (base < 0) return NULL;
    size_t padn = size > (size_t)base ? size - (size_t)base : 0;
    char *pad = malloc(padn + 1);
    char *out = malloc((size_t)base + padn + 1);
    if (!pad || !out) { free(pad); free(out); return NULL; }
    memset(pad, 'x', padn);
    pad[padn] = '\0';
    int n = snprintf(out, (size_t)base + padn + 1, POD_FMT, name, ns, i, rv, pad);
    free(pad);
    if (n < 0) { free(out); return NULL; }
    *len = (size_t)n;
    return out;
}
