/*
 * hash.c - seeded FNV-1a variant with a final avalanche (splitmix64).
 * Not cryptographic; the random seed is what keeps collisions unpredictable.
 */
#include "util/hash.h"

#include <openssl/rand.h>

static uint64_t seed = 0x9e3779b97f4a7c15ULL;

void hash_seed_init(void)
{
	uint64_t s;

	if (RAND_bytes((unsigned char *)&s, sizeof(s)) == 1)
		seed ^= s;
}

static uint64_t fmix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t hash_mix(uint64_t h, const void *p, size_t len)
{
	const unsigned char *s = p;

	h ^= seed;
	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return fmix(h);
}

uint64_t hash_bytes(const void *p, size_t len) { return hash_mix(0xcbf29ce484222325ULL, p, len); }
