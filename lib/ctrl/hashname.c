/* hashname.c - ComputeHash and HashControllerRevision suffixes. See hashname.h. */
#include "ctrl/hashname.h"

#include <stdio.h>
#include <string.h>

#include "ctrl/actions.h"
#include "hash.h"

void ctrl_safe_encode(const char *in, char *out, size_t outlen)
{
    static const char alphabet[] = CTRL_NAME_ALPHABET;
    size_t i = 0;
    if (!outlen) return;
    for (; in[i] && i + 1 < outlen; i++) out[i] = alphabet[(unsigned char)in[i] % (sizeof alphabet - 1)];
    out[i] = '\0';
}

static int render(uint32_t h, char *out, size_t outlen)
{
    char digits[CTRL_HASH_MAX];
    snprintf(digits, sizeof digits, "%u", h);
    ctrl_safe_encode(digits, out, outlen);
    return 0;
}

int ctrl_compute_hash(const char *text, const int32_t *collision, char *out, size_t outlen)
{
    if (outlen < CTRL_HASH_MAX) return -1;
    uint32_t h = fnv1a32_update(FNV32_OFFSET, text, strlen(text));
    if (collision) {
        uint32_t v = (uint32_t)*collision;
        unsigned char bytes[8] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                                   (unsigned char)(v >> 24) };
        h = fnv1a32_update(h, bytes, sizeof bytes);
    }
    return render(h, out, outlen);
}

int ctrl_revision_hash(const char *text, const int32_t *collision, char *out, size_t outlen)
{
    if (outlen < CTRL_HASH_MAX) return -1;
    uint32_t h = fnv1_32_update(FNV32_OFFSET, text, strlen(text));
    if (collision) {
        char num[16];
        int k = snprintf(num, sizeof num, "%d", (int)*collision);
        h = fnv1_32_update(h, num, (size_t)k);
    }
    return render(h, out, outlen);
}
