/* names.c - client-side generateName: <prefix><5 chars> from the API
 * server's alphabet, so a create can carry its final name (DEVELOPERS.md),
 * and the random part of action ids (ctrl_random_bytes). */
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include "ctrl/actions.h"
#include "worker.h"

void ctrl_random_bytes(uint8_t *out, size_t n)
{
    ssize_t got = getrandom(out, n, GRND_NONBLOCK);
    if (got == (ssize_t)n) return;
    /* no entropy yet (early boot): a xorshift stream seeded from clocks */
    static uint64_t x;
    if (!x) x = (now_unix_ms() << 20) ^ now_mono_ms() ^ (uint64_t)(uintptr_t)&x ^ 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        out[i] = (uint8_t)x;
    }
}

int ctrl_name_generate(const char *prefix, char *out, size_t outlen)
{
    static const char alphabet[] = CTRL_NAME_ALPHABET;
    const size_t na = sizeof alphabet - 1;
    size_t pl = prefix ? strlen(prefix) : 0;
    if (pl > CTRL_NAME_PREFIX_MAX) pl = CTRL_NAME_PREFIX_MAX;
    if (outlen < pl + CTRL_NAME_SUFFIX_LEN + 1) return -1;
    memcpy(out, prefix, pl);
    for (size_t i = 0; i < CTRL_NAME_SUFFIX_LEN; i++) {
        uint8_t b;
        do ctrl_random_bytes(&b, 1); while (b >= 256 - (256 % na));   /* no modulo bias */
        out[pl + i] = alphabet[b % na];
    }
    out[pl + CTRL_NAME_SUFFIX_LEN] = '\0';
    return (int)(pl + CTRL_NAME_SUFFIX_LEN);
}
