/*
 * fuzz_auth.c - Digest credentials: auth_cred_parse, auth_verify,
 * auth_nonce_check.
 *
 * The input is an Authorization header value.  One auth context is made
 * per process (nonce TTL 300 s, "now" fixed), with one nonce per
 * algorithm issued at that time.  Nonces are random per process, so the
 * harness fills in what the fuzzer cannot know, in a copy of the input:
 *   @NONCE@   the nonce for the algorithm the credentials name (MD5 if none)
 *   @OPAQUE@  this context's opaque
 *   @RESP@    the correct response for the rest of the credentials,
 *             computed with alice's HA1 (password "secret")
 * so that credentials get past the HMAC and digest checks and reach the
 * nonce-count table.
 *
 * Each parsed credential is verified with an empty HA1 (unknown user) and
 * with alice's HA1, at "now", at a time past the TTL and before the nonce
 * was issued.  Oracles: an unknown user never passes (always AUTH_FAIL);
 * bytes straight from the fuzzer never authenticate (the nonce is an HMAC
 * under a random key); an expired or future nonce never gives AUTH_OK; a
 * credential that just gave AUTH_OK gives AUTH_STALE when replayed; every
 * parsed slice lies inside the input.
 *
 * An input starting with "SEQ" drives the nonce-count table instead: a
 * fresh context per input (table of 1..4 entries, so entries get evicted),
 * eight nonces issued 40 s apart, and for each 4-byte record (time, nonce,
 * nc) a correct credential verified at that time.  Oracles: a (nonce, nc)
 * pair is accepted at most once, ever (eviction must not reopen it); a
 * nonce is only accepted within its TTL and skew.
 */
#include "fuzz_common.h"

#include <time.h>

#include "auth/auth.h"

#define NOW ((time_t)1700000000)
#define TTL 300
#define REALM "example.com"

static struct auth_ctx *g_auth;
static char g_nonce[AUTH_ALG__COUNT][AUTH_NONCE_MAX + 1];
static char g_ha1[AUTH_ALG__COUNT][AUTH_HA1_HEX_MAX + 1];

static void cleanup(void)
{
	auth_free(g_auth);
	g_auth = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	g_auth = auth_new(TTL, 64);
	if (!g_auth)
		abort();
	for (int a = 0; a < AUTH_ALG__COUNT; a++) {
		if (auth_nonce_new(g_auth, (enum auth_alg)a, NOW, g_nonce[a]) == 0)
			abort();
		auth_ha1((enum auth_alg)a, "alice", REALM, "secret", g_ha1[a]);
	}
	atexit(cleanup);
	return 0;
}

static void check_cred(const struct auth_cred *c, const char *b, size_t n)
{
	FUZZ_SL_IN(c->scheme, b, n);
	FUZZ_SL_IN(c->username, b, n);
	FUZZ_SL_IN(c->realm, b, n);
	FUZZ_SL_IN(c->nonce, b, n);
	FUZZ_SL_IN(c->uri, b, n);
	FUZZ_SL_IN(c->response, b, n);
	FUZZ_SL_IN(c->algorithm, b, n);
	FUZZ_SL_IN(c->cnonce, b, n);
	FUZZ_SL_IN(c->opaque, b, n);
	FUZZ_SL_IN(c->qop, b, n);
	FUZZ_SL_IN(c->nc, b, n);
}

static enum auth_alg cred_alg(const struct auth_cred *c)
{
	enum auth_alg a = AUTH_MD5;

	if (c->algorithm.len && auth_alg_parse(c->algorithm, &a) != 0)
		a = AUTH_MD5;
	return a;
}

/* Replace every occurrence of tok in in[0..n) with rep, into a new buffer. */
static char *subst(const char *in, size_t n, const char *tok, const char *rep, size_t *outn)
{
	size_t tl = strlen(tok), rl = strlen(rep), cnt = 0, o = 0;
	const char *p = in, *q;
	char *out;

	for (q = fuzz_memmem(p, n, tok, tl); q; q = fuzz_memmem(q + tl, n - (size_t)(q + tl - in), tok, tl))
		cnt++;
	out = malloc(n + cnt * rl + 1);
	if (!out)
		abort();
	while ((q = fuzz_memmem(p, n - (size_t)(p - in), tok, tl)) != NULL) {
		memcpy(out + o, p, (size_t)(q - p));
		o += (size_t)(q - p);
		memcpy(out + o, rep, rl);
		o += rl;
		p = q + tl;
	}
	memcpy(out + o, p, n - (size_t)(p - in));
	o += n - (size_t)(p - in);
	*outn = o;
	return out;
}

/* Verify c every way; 'forged' says the bytes came straight from the fuzzer. */
static void verify_all(const struct auth_cred *c, bool forged)
{
	static const sl_t methods[] = { SL("REGISTER"), SL("INVITE") };
	enum auth_alg a = cred_alg(c);
	sl_t ha1 = sl_cstr(g_ha1[a]), realm = SL(REALM);
	enum auth_result r;

	for (size_t i = 0; i < 2; i++) {
		r = auth_verify(g_auth, c, methods[i], realm, SL_NULL, NOW);
		FUZZ_CHECK(r == AUTH_FAIL, "unknown user got result %d", (int)r);
		r = auth_verify(g_auth, c, methods[i], realm, SL(""), NOW);
		FUZZ_CHECK(r == AUTH_FAIL, "empty HA1 got result %d", (int)r);
	}
	/* wrong-algorithm HA1 (wrong length) */
	r = auth_verify(g_auth, c, methods[0], realm, sl_cstr(g_ha1[1 - a]), NOW);
	FUZZ_CHECK(r == AUTH_FAIL, "HA1 of the other algorithm got result %d", (int)r);
	/* expired, and from the future */
	r = auth_verify(g_auth, c, methods[0], realm, ha1, NOW + TTL + 1);
	FUZZ_CHECK(r != AUTH_OK, "expired nonce accepted");
	r = auth_verify(g_auth, c, methods[0], realm, ha1, NOW - 3600);
	FUZZ_CHECK(r == AUTH_FAIL, "nonce from the future got %d", (int)r);
	/* now */
	r = auth_verify(g_auth, c, methods[0], realm, ha1, NOW);
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "%s credentials: auth_verify = %d (0 ok, 1 stale, 2 fail)\n",
			forged ? "raw" : "filled-in", (int)r);
	FUZZ_CHECK(!(forged && r == AUTH_OK), "raw fuzzer bytes authenticated");
	if (r == AUTH_OK) {
		r = auth_verify(g_auth, c, methods[0], realm, ha1, NOW);
		FUZZ_CHECK(r == AUTH_STALE, "replayed credentials got %d, not stale", (int)r);
		/* the digest covers the method */
		r = auth_verify(g_auth, c, methods[1], realm, ha1, NOW);
		FUZZ_CHECK(r == AUTH_FAIL, "digest for REGISTER accepted for INVITE: %d", (int)r);
	}
	for (int k = 0; k < AUTH_ALG__COUNT; k++) {
		enum auth_nonce_state st = auth_nonce_check(g_auth, c->nonce, (enum auth_alg)k, NOW);

		FUZZ_CHECK(!(forged && st != AUTH_NONCE_BAD), "fuzzer bytes passed as a nonce");
	}
}

/* Parse and verify text; returns the algorithm the credentials name (MD5
 * when none or unparsed).  c's slices die with the copy: not returned. */
static enum auth_alg one(const char *text, size_t n, bool forged)
{
	struct auth_cred cred, *c = &cred;
	enum auth_alg a = AUTH_MD5;
	int rcv, *rc = &rcv;
	char *buf = fuzz_dup(text, n);

	*rc = auth_cred_parse(sl_make(buf, n), c);
	FUZZ_CHECK(*rc == 0 || *rc == -1, "auth_cred_parse returned %d", *rc);
	check_cred(c, buf, n);
	if (*rc == 0) {
		FUZZ_CHECK(c->scheme.len > 0, "parsed without scheme");
		verify_all(c, forged);
		a = cred_alg(c);
	}
	free(buf);
	return a;
}

#define SEQ_NONCES 8
#define SEQ_MAX 512

static void seq_mode(const uint8_t *d, size_t n)
{
	struct auth_ctx *a;
	char nonce[SEQ_NONCES][AUTH_NONCE_MAX + 1], ncs[9], rsp[AUTH_HA1_HEX_MAX + 1];
	time_t issued[SEQ_NONCES];
	struct { uint8_t k; uint32_t nc; } used[SEQ_MAX];
	size_t nused = 0;

	if (n < 1)
		return;
	a = auth_new(TTL, 1 + d[0] % 4);
	if (!a)
		abort();
	for (int k = 0; k < SEQ_NONCES; k++) {
		issued[k] = NOW + 40 * k;
		if (auth_nonce_new(a, (enum auth_alg)(k % 2), issued[k], nonce[k]) == 0)
			abort();
	}
	for (size_t i = 1; i + 4 <= n && nused < SEQ_MAX; i += 4) {
		const uint8_t *r = d + i;
		time_t now = NOW + (time_t)r[0] * 4;
		unsigned k = r[1] % SEQ_NONCES;
		enum auth_alg alg = (enum auth_alg)(k % 2);
		uint32_t nc = r[1] & 0x80 ? (uint32_t)r[2] << 24 | r[3] : (uint32_t)r[2] | (uint32_t)r[3] << 8;
		struct auth_cred c;
		enum auth_result res;

		snprintf(ncs, sizeof(ncs), "%08x", nc);
		auth_response(alg, sl_cstr(g_ha1[alg]), sl_cstr(nonce[k]), sl_cstr(ncs), SL("c"),
			      SL("auth"), SL("REGISTER"), SL("sip:example.com"), rsp);
		memset(&c, 0, sizeof(c));
		c.scheme = SL("Digest");
		c.username = SL("alice");
		c.realm = SL(REALM);
		c.nonce = sl_cstr(nonce[k]);
		c.uri = SL("sip:example.com");
		c.response = sl_cstr(rsp);
		c.algorithm = sl_cstr(auth_alg_name(alg));
		c.cnonce = SL("c");
		c.opaque = sl_cstr(auth_opaque(a));
		c.qop = SL("auth");
		c.nc = sl_cstr(ncs);
		res = auth_verify(a, &c, SL("REGISTER"), SL(REALM), sl_cstr(g_ha1[alg]), now);
		if (getenv("FUZZ_VERBOSE"))
			fprintf(stderr, "seq: nonce %u (+%lld) nc %08x at +%lld: %d\n", k,
				(long long)(issued[k] - NOW), nc, (long long)(now - NOW), (int)res);
		if (res != AUTH_OK)
			continue;
		FUZZ_CHECK(now - issued[k] <= TTL && issued[k] - now <= 5,
			   "nonce %u issued at +%lld accepted at +%lld", k, (long long)(issued[k] - NOW),
			   (long long)(now - NOW));
		for (size_t j = 0; j < nused; j++)
			FUZZ_CHECK(!(used[j].k == k && used[j].nc == nc),
				   "replay accepted: nonce %u nc %08x at +%lld (record %zu)", k, nc,
				   (long long)(now - NOW), i / 4);
		used[nused].k = (uint8_t)k;
		used[nused++].nc = nc;
	}
	auth_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	enum auth_alg a;
	char *z;

	if (size >= 3 && memcmp(in, "SEQ", 3) == 0) {
		seq_mode(data + 3, size - 3);
		return 0;
	}

	/* raw */
	a = one(in, size, true);
	for (int k = 0; k < AUTH_ALG__COUNT; k++) {
		char *d = fuzz_dup(in, size);

		FUZZ_CHECK(auth_nonce_check(g_auth, sl_make(d, size), (enum auth_alg)k, NOW) ==
				   AUTH_NONCE_BAD,
			   "fuzzer bytes passed as a nonce");
		free(d);
	}

	/* algorithm lists, as in the configuration */
	z = fuzz_strdup(in, size < 256 ? size : 256);
	{
		enum auth_alg algs[AUTH_MAX_ALGS];
		size_t na = 99;

		if (auth_alg_list_parse(z, algs, &na) == 0) {
			FUZZ_CHECK(na >= 1 && na <= AUTH_MAX_ALGS, "%zu algorithms", na);
			for (size_t i = 0; i < na; i++)
				for (size_t j = i + 1; j < na; j++)
					FUZZ_CHECK(algs[i] != algs[j], "duplicate algorithm");
		}
	}
	free(z);

	/* with the blanks filled in */
	if (fuzz_memmem(in, size, "@NONCE@", 7) || fuzz_memmem(in, size, "@OPAQUE@", 8) ||
	    fuzz_memmem(in, size, "@RESP@", 6)) {
		size_t n1, n2, n3;
		char *t1 = subst(in, size, "@NONCE@", g_nonce[a], &n1);
		char *t2 = subst(t1, n1, "@OPAQUE@", auth_opaque(g_auth), &n2);
		char *t3 = t2;

		n3 = n2;
		if (fuzz_memmem(t2, n2, "@RESP@", 6)) {
			/* parse once to learn the fields the response covers */
			char *tmp = fuzz_dup(t2, n2);
			struct auth_cred c2;

			if (auth_cred_parse(sl_make(tmp, n2), &c2) == 0) {
				char rsp[AUTH_HA1_HEX_MAX + 1];
				enum auth_alg a2 = cred_alg(&c2);

				auth_response(a2, sl_cstr(g_ha1[a2]), c2.nonce, c2.nc, c2.cnonce, c2.qop,
					      SL("REGISTER"), c2.uri, rsp);
				t3 = subst(t2, n2, "@RESP@", rsp, &n3);
			}
			free(tmp);
		}
		(void)one(t3, n3, false);
		if (t3 != t2)
			free(t3);
		free(t2);
		free(t1);
	}
	return 0;
}
