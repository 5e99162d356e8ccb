/* hash.c - FNV-1 and FNV-1a. See hash.h. */
#include "hash.h"

uint32_t fnv1a32_update(uint32_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * FNV32_PRIME;
    return h;
}

uint64_t fnv1a64_update(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * FNV64_PRIME;
    return h;
}

uint32_t fnv1_32_update(uint32_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) h = (h * FNV32_PRIME) ^ p[i];
    return h;
}

uint32_t fnv1a32_str(const char *s)
{
    uint32_t h = FNV32_OFFSET;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * FNV32_PRIME;
    return h;
}

uint64_t fnv1a64_str(const char *s)
{
    uint64_t h = FNV64_OFFSET;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * FNV64_PRIME;
    return h;
}
