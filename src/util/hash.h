/*
 * hash.h - a seeded 64-bit hash for in-memory tables.
 *
 * Keys (AORs, Call-IDs, branches) come from the network, so the seed is
 * random per process: an attacker cannot precompute colliding keys.
 */
#ifndef SR_HASH_H
#define SR_HASH_H

#include <stddef.h>
#include <stdint.h>

void hash_seed_init(void);
uint64_t hash_bytes(const void *p, size_t len);
/* Same as hash_bytes over the concatenation, without building it. */
uint64_t hash_mix(uint64_t h, const void *p, size_t len);

#endif
