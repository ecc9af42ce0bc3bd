/*
 * test_store.c - store: open and its failures, subscribers, synchronous
 * binding changes and queries, purge, and per-thread readers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"

#include "store/store_fx.h"
#include "store/store_raw.h"

/* ---- open ---- */

static void test_open_create_reopen(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	struct stat stt;
	sqlite3 *db;

	assert_string_equal(f->err, "");
	assert_int_equal(stat(f->path, &stt), 0);
	assert_int_equal(store_user_put(s, "alice", "example.com", "m", "s"), 0);
	store_close(s);

	db = raw_open(f->path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 2);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
				 " AND name IN ('users_domain', 'bindings_expires')"), 2);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'bindings_aor'"), 0);
	sqlite3_close(db);

	s = fx_open(f);
	assert_int_equal(store_user_put(s, "bob", "example.com", "m", ""), 0);
	store_close(s);
	db = raw_open(f->path);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM users"), 2);
	sqlite3_close(db);
}

static void test_open_wal_mode(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	sqlite3 *db = raw_open(f->path);
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
	store_close(s);
}

/* A version 1 store (sipreg 0.1) is upgraded in place: its bindings_aor
 * index dropped, its rows kept. */
static void test_open_upgrades_v1(void **state)
{
	struct fx *f = *state;
	struct store *s;
	sqlite3 *db = raw_open(f->path);

	raw_exec(db, "CREATE TABLE users(user TEXT NOT NULL, domain TEXT NOT NULL,"
		     " ha1_md5 TEXT NOT NULL DEFAULT '', ha1_sha256 TEXT NOT NULL DEFAULT '',"
		     " PRIMARY KEY(user, domain)) WITHOUT ROWID;"
		     "CREATE INDEX users_domain ON users(domain);"
		     "CREATE TABLE bindings(id INTEGER PRIMARY KEY, aor TEXT NOT NULL,"
		     " contact TEXT NOT NULL, call_id TEXT NOT NULL, cseq INTEGER NOT NULL,"
		     " expires INTEGER NOT NULL, updated INTEGER NOT NULL, source TEXT NOT NULL,"
		     " user_agent TEXT NOT NULL);"
		     "CREATE INDEX bindings_aor ON bindings(aor);"
		     "CREATE INDEX bindings_expires ON bindings(expires);"
		     "INSERT INTO bindings VALUES(7, 'a@x', '<sip:a@x>', 'c', 1, 4000000000, 1, 's', '');"
		     "PRAGMA user_version = 1;");
	sqlite3_close(db);
	s = store_open(f->path, f->err, sizeof(f->err));
	assert_non_null(s);
	store_close(s);
	db = raw_open(f->path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 2);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'bindings_aor'"), 0);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM bindings WHERE aor = 'a@x'"), 1);
	sqlite3_close(db);
}

static void test_open_missing_dir(void **state)
{
	struct fx *f = *state;
	char path[256];

	snprintf(path, sizeof(path), "%s/no/such/dir/x.db", f->dir);
	assert_null(store_open(path, f->err, sizeof(f->err)));
	assert_true(strncmp(f->err, "cannot open ", 12) == 0);
	assert_non_null(strstr(f->err, "unable to open database file"));
	assert_null(strchr(f->err, '\n'));
}

static void test_open_corrupt(void **state)
{
	struct fx *f = *state;
	char garbage[8192], want[512];
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)("not a database! "[i % 16]);
	assert_int_equal(fwrite(garbage, 1, sizeof(garbage), fp), sizeof(garbage));
	fclose(fp);
	assert_null(store_open(f->path, f->err, sizeof(f->err)));
	snprintf(want, sizeof(want), "%s is not a sipreg database or is corrupt:"
		 " file is not a database", f->path);
	assert_string_equal(f->err, want);
}

static void test_open_foreign_db(void **state)
{
	struct fx *f = *state;
	sqlite3 *db = raw_open(f->path);

	raw_exec(db, "CREATE TABLE accounts(x)");
	sqlite3_close(db);
	assert_null(store_open(f->path, f->err, sizeof(f->err)));
	assert_non_null(strstr(f->err, "is not a sipreg database"));
}

static void test_open_newer_schema(void **state)
{
	struct fx *f = *state;
	sqlite3 *db;

	store_close(fx_open(f));
	db = raw_open(f->path);
	raw_exec(db, "PRAGMA user_version = 7");
	sqlite3_close(db);
	assert_null(store_open(f->path, f->err, sizeof(f->err)));
	assert_non_null(strstr(f->err, "schema version 7"));
	assert_non_null(strstr(f->err, "upgrade sipreg"));
}

/* Another process holding the write lock: open fails after busy_timeout. */
static void test_open_locked(void **state)
{
	struct fx *f = *state;
	sqlite3 *db;

	store_close(fx_open(f));
	db = raw_open(f->path);
	raw_exec(db, "BEGIN IMMEDIATE");
	assert_null(store_open(f->path, f->err, sizeof(f->err)));
	assert_non_null(strstr(f->err, "is locked"));
	raw_exec(db, "COMMIT");
	sqlite3_close(db);
	store_close(fx_open(f));
}

static void test_open_bad_args(void **state)
{
	struct fx *f = *state;

	assert_null(store_open("", f->err, sizeof(f->err)));
	assert_string_equal(f->err, "no store path given");
	assert_null(store_open("", NULL, 0));
}

/* ---- subscribers ---- */

struct ulist {
	char seen[8][64];
	int n;
	int stop_after;
};

static int ulist_cb(const char *user, const char *domain, void *arg)
{
	struct ulist *l = arg;

	if (l->n < 8)
		snprintf(l->seen[l->n], sizeof(l->seen[0]), "%s@%s", user, domain);
	l->n++;
	return l->stop_after && l->n >= l->stop_after ? -ECANCELED : 0;
}

static void test_users(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	struct store_reader *r = store_reader_new(s);
	struct store_user u;
	struct ulist l = { 0 };

	assert_non_null(r);
	assert_int_equal(store_user_put(s, "alice", "Example.COM", "aaaa", "bbbb"), 0);
	assert_int_equal(store_user_put(s, "bob", "example.com", "cccc", NULL), 0);
	assert_int_equal(store_user_put(s, "carol", "a.org", NULL, "dddd"), 0);

	assert_int_equal(store_user_get(r, SL("alice"), SL("example.com"), &u), 0);
	assert_string_equal(u.ha1_md5, "aaaa");
	assert_string_equal(u.ha1_sha256, "bbbb");
	assert_int_equal(store_user_get(r, SL("alice"), SL("EXAMPLE.com"), &u), 0);
	/* The user part of a SIP URI is case-sensitive. */
	assert_int_equal(store_user_get(r, SL("Alice"), SL("example.com"), &u), -ENOENT);
	assert_int_equal(store_user_get(r, SL("bob"), SL("example.com"), &u), 0);
	assert_string_equal(u.ha1_md5, "cccc");
	assert_string_equal(u.ha1_sha256, "");
	assert_int_equal(store_user_get(r, SL("carol"), SL("A.ORG"), &u), 0);
	assert_string_equal(u.ha1_md5, "");
	assert_int_equal(store_user_get(r, SL("dave"), SL("a.org"), &u), -ENOENT);
	/* A slice is not NUL-terminated: only len bytes count. */
	assert_int_equal(store_user_get(r, sl_make("alicex", 5), sl_make("example.comXX", 11), &u), 0);

	/* Replace. */
	assert_int_equal(store_user_put(s, "alice", "example.com", "eeee", ""), 0);
	assert_int_equal(store_user_get(r, SL("alice"), SL("example.com"), &u), 0);
	assert_string_equal(u.ha1_md5, "eeee");
	assert_string_equal(u.ha1_sha256, "");

	assert_int_equal(store_user_list(s, ulist_cb, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.seen[0], "carol@a.org");
	assert_string_equal(l.seen[1], "alice@example.com");
	assert_string_equal(l.seen[2], "bob@example.com");
	memset(&l, 0, sizeof(l));
	l.stop_after = 2;
	assert_int_equal(store_user_list(s, ulist_cb, &l), -ECANCELED);
	assert_int_equal(l.n, 2);

	assert_int_equal(store_user_del(s, "bob", "EXAMPLE.COM"), 0);
	assert_int_equal(store_user_del(s, "bob", "example.com"), -ENOENT);
	assert_int_equal(store_user_get(r, SL("bob"), SL("example.com"), &u), -ENOENT);
	store_reader_free(r);
	store_close(s);
}

static void test_users_bad_args(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	struct store_reader *r = store_reader_new(s);
	struct store_user u;
	char longd[300], ha1[80];

	memset(longd, 'a', sizeof(longd) - 1);
	longd[sizeof(longd) - 1] = '\0';
	memset(ha1, 'f', sizeof(ha1) - 1);
	ha1[sizeof(ha1) - 1] = '\0';
	assert_int_equal(store_user_put(s, "x", longd, "", ""), -ENAMETOOLONG);
	assert_int_equal(store_user_get(r, SL("x"), sl_cstr(longd), &u), -ENAMETOOLONG);
	assert_int_equal(store_domain_exists(r, sl_cstr(longd)), -ENAMETOOLONG);
	assert_int_equal(store_user_del(s, "x", longd), -ENAMETOOLONG);
	/* 255 is the longest domain accepted. */
	longd[255] = '\0';
	assert_int_equal(store_user_put(s, "x", longd, "", ""), 0);
	assert_int_equal(store_user_get(r, SL("x"), sl_cstr(longd), &u), 0);
	assert_int_equal(store_user_put(s, "", "a.org", "", ""), -EINVAL);
	assert_int_equal(store_user_put(s, "x", "", "", ""), -EINVAL);
	assert_int_equal(store_user_put(s, "x", "a.org", ha1, ""), -EINVAL);
	ha1[64] = '\0';
	assert_int_equal(store_user_put(s, "x", "a.org", "", ha1), 0);
	assert_int_equal(store_user_get(r, SL("x"), SL("a.org"), &u), 0);
	assert_string_equal(u.ha1_sha256, ha1);
	assert_int_equal(store_user_get(r, SL_NULL, SL_NULL, &u), -ENOENT);
	store_reader_free(r);
	store_close(s);
}

static void test_domain_exists(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	struct store_reader *r = store_reader_new(s);

	assert_int_equal(store_domain_exists(r, SL("example.com")), -ENOENT);
	assert_int_equal(store_user_put(s, "alice", "EXAMPLE.com", "m", ""), 0);
	assert_int_equal(store_domain_exists(r, SL("example.com")), 0);
	assert_int_equal(store_domain_exists(r, SL("Example.Com")), 0);
	assert_int_equal(store_domain_exists(r, SL("example.org")), -ENOENT);
	assert_int_equal(store_domain_exists(r, SL("")), -ENOENT);
	assert_int_equal(store_user_del(s, "alice", "example.com"), 0);
	assert_int_equal(store_domain_exists(r, SL("example.com")), -ENOENT);
	store_reader_free(r);
	store_close(s);
}

/* The lookup by domain must use the users(domain) index. */
static void test_domain_exists_uses_index(void **state)
{
	struct fx *f = *state;
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	char plan[512] = "";

	store_close(fx_open(f));
	db = raw_open(f->path);
	assert_int_equal(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT 1 FROM users"
					    " WHERE domain = 'x' LIMIT 1", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		strncat(plan, (const char *)sqlite3_column_text(st, 3), sizeof(plan) - strlen(plan) - 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_non_null(strstr(plan, "users_domain"));
}

/* ---- bindings ---- */

static struct store_change put(int64_t id, const char *aor, int64_t expires)
{
	static char contacts[64][64];
	char *c = contacts[id % 64];

	snprintf(c, sizeof(contacts[0]), "<sip:%s;n=%lld>", aor, (long long)id);
	return (struct store_change){
		.op = STORE_PUT,
		.b = { .id = id, .aor = aor, .contact = c, .call_id = "cid", .cseq = 7,
		       .expires = expires, .updated = 1000, .source = "udp:192.0.2.1:5060",
		       .user_agent = "ua/1" },
	};
}

struct blist {
	int64_t ids[64];
	char aor[64][64];
	int n;
	int abort_at;
	struct store_binding first;
	char first_contact[64];
};

static int blist_cb(const struct store_binding *b, void *arg)
{
	struct blist *l = arg;

	if (l->n == 0) {
		l->first = *b;
		snprintf(l->first_contact, sizeof(l->first_contact), "%s", b->contact);
	}
	if (l->n < 64) {
		l->ids[l->n] = b->id;
		snprintf(l->aor[l->n], sizeof(l->aor[0]), "%s", b->aor);
	}
	l->n++;
	return l->abort_at && l->n >= l->abort_at ? -42 : 1;
}

static void test_bindings_apply(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	struct store_change ch[5];
	struct blist l = { 0 };
	int64_t max = -1;

	assert_int_equal(store_max_binding_id(s, &max), 0);
	assert_int_equal(max, 0);
	ch[0] = put(5, "bob@b.org", 2000);
	ch[1] = put(3, "alice@a.org", 2000);
	ch[2] = put(9, "alice@a.org", 1500);      /* expired at now = 1500 */
	ch[3] = put(4, "alice@a.org", 3000);
	ch[4] = put(7, "carol@c.org", 2500);
	assert_int_equal(store_apply(s, ch, 5), 0);
	assert_int_equal(store_max_binding_id(s, &max), 0);
	assert_int_equal(max, 9);

	assert_int_equal(store_load_bindings(s, 1500, blist_cb, &l), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.ids[0], 3);
	assert_int_equal(l.ids[1], 4);
	assert_int_equal(l.ids[2], 5);
	assert_int_equal(l.ids[3], 7);
	assert_int_equal(l.first.id, 3);
	assert_int_equal(l.first.cseq, 7);
	assert_int_equal(l.first.expires, 2000);
	assert_int_equal(l.first.updated, 1000);
	assert_string_equal(l.first_contact, "<sip:alice@a.org;n=3>");

	memset(&l, 0, sizeof(l));
	assert_int_equal(store_list_bindings(s, "alice@a.org", 1500, blist_cb, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ids[0], 3);
	assert_int_equal(l.ids[1], 4);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_list_bindings(s, NULL, 0, blist_cb, &l), 0);
	assert_int_equal(l.n, 5);
	assert_string_equal(l.aor[0], "alice@a.org");
	assert_int_equal(l.ids[0], 3);
	assert_int_equal(l.ids[1], 4);
	assert_int_equal(l.ids[2], 9);
	assert_string_equal(l.aor[3], "bob@b.org");
	assert_string_equal(l.aor[4], "carol@c.org");
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_list_bindings(s, "nobody@x", 0, blist_cb, &l), 0);
	assert_int_equal(l.n, 0);

	/* Abort from the callback. */
	memset(&l, 0, sizeof(l));
	l.abort_at = 2;
	assert_int_equal(store_load_bindings(s, 0, blist_cb, &l), -42);
	assert_int_equal(l.n, 2);

	/* Replace by id, delete by id, delete an AOR. */
	ch[0] = put(5, "bob@b.org", 4000);
	ch[0].b.cseq = 8;
	ch[0].b.user_agent = NULL;
	ch[1] = (struct store_change){ .op = STORE_DEL, .b.id = 7 };
	ch[2] = (struct store_change){ .op = STORE_DEL_AOR, .b.aor = "alice@a.org" };
	ch[3] = (struct store_change){ .op = STORE_DEL, .b.id = 12345 };  /* absent: fine */
	assert_int_equal(store_apply(s, ch, 4), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_load_bindings(s, 0, blist_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.first.id, 5);
	assert_int_equal(l.first.cseq, 8);
	assert_int_equal(l.first.expires, 4000);
	assert_int_equal(store_max_binding_id(s, &max), 0);
	assert_int_equal(max, 5);
	store_close(s);

	/* Durable across reopen. */
	s = fx_open(f);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_load_bindings(s, 0, blist_cb, &l), 0);
	assert_int_equal(l.n, 1);
	store_close(s);
}

static void test_apply_invalid(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	struct store_change ch[2];
	struct blist l = { 0 };

	ch[0] = put(1, "a@x", 5000);
	ch[1] = put(2, "a@x", 5000);
	ch[1].b.contact = NULL;
	assert_int_equal(store_apply(s, ch, 2), -EINVAL);
	ch[1] = (struct store_change){ .op = (enum store_op)99 };
	assert_int_equal(store_apply(s, ch, 2), -EINVAL);
	ch[1] = (struct store_change){ .op = STORE_DEL_AOR };
	assert_int_equal(store_apply(s, ch, 2), -EINVAL);
	assert_int_equal(store_apply(s, NULL, 0), 0);
	assert_int_equal(store_apply(s, NULL, 1), -EINVAL);
	assert_int_equal(store_load_bindings(s, 0, blist_cb, &l), 0);
	assert_int_equal(l.n, 0);
	store_close(s);
}

/* A change that fails inside SQLite rolls back the whole store_apply. */
static void test_apply_atomic(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	struct store_change ch[3];
	struct blist l = { 0 };
	sqlite3 *db = raw_open(f->path);

	raw_exec(db, "CREATE TRIGGER t_bad BEFORE INSERT ON bindings WHEN NEW.aor = 'bad@x'"
		 " BEGIN SELECT RAISE(ABORT, 'refused by test'); END");
	sqlite3_close(db);
	ch[0] = put(1, "a@x", 5000);
	ch[1] = put(2, "bad@x", 5000);
	ch[2] = put(3, "a@x", 5000);
	assert_true(store_apply(s, ch, 3) < 0);
	assert_int_equal(store_load_bindings(s, 0, blist_cb, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(store_apply(s, ch, 1), 0);
	assert_int_equal(store_load_bindings(s, 0, blist_cb, &l), 0);
	assert_int_equal(l.n, 1);
	store_close(s);
}

static void test_purge(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	struct store_change ch[4];
	struct blist l = { 0 };

	ch[0] = put(1, "a@x", 100);
	ch[1] = put(2, "a@x", 200);
	ch[2] = put(3, "b@x", 201);
	ch[3] = put(4, "c@x", 5000);
	assert_int_equal(store_apply(s, ch, 4), 0);
	assert_int_equal(store_purge_expired(s, 50), 0);
	assert_int_equal(store_purge_expired(s, 200), 2);
	assert_int_equal(store_list_bindings(s, NULL, 0, blist_cb, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ids[0], 3);
	assert_int_equal(l.ids[1], 4);
	assert_int_equal(store_purge_expired(s, 200), 0);
	assert_int_equal(store_purge_expired(s, 10000), 2);
	store_close(s);
}

/* More than one chunk: the synchronous purge loops; the writer's purge
 * runs chunk by chunk between batches until nothing expired is left. */
static void test_purge_chunks(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	enum { N = 2500 };
	static struct store_change ch[N];
	struct blist l = { 0 };
	int i;

	for (i = 0; i < N; i++)
		ch[i] = put(i + 1, "a@x", i < 2200 ? 100 : 5000);
	assert_int_equal(store_apply(s, ch, 1200), 0);
	assert_int_equal(store_purge_expired(s, 200), 1200);
	assert_int_equal(store_apply(s, ch + 1200, N - 1200), 0);
	assert_int_equal(store_writer_start(s), 0);
	store_purge_request(s, 200);
	for (i = 0; i < 500; i++) {
		l.n = 0;
		assert_int_equal(store_list_bindings(s, NULL, 0, blist_cb, &l), 0);
		if (l.n == N - 2200)
			break;
		usleep(10000);
	}
	assert_int_equal(l.n, N - 2200);
	store_writer_stop(s);
	store_close(s);
}

/* The purge's DELETE (same text as the store's) is a range on the index. */
static void test_purge_uses_index(void **state)
{
	struct fx *f = *state;
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	char plan[512] = "";

	store_close(fx_open(f));
	db = raw_open(f->path);
	assert_int_equal(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN DELETE FROM bindings WHERE id IN"
					    " (SELECT id FROM bindings WHERE expires <= ?1 ORDER BY expires"
					    " LIMIT ?2)", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		strncat(plan, (const char *)sqlite3_column_text(st, 3), sizeof(plan) - strlen(plan) - 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_non_null(strstr(plan, "bindings_expires"));
	assert_null(strstr(plan, "SCAN"));
}

/* ---- readers ---- */

/* The child of the test: `sipreg user add` from another process.  Forked
 * before the parent opens anything, so no SQLite state crosses the fork. */
static void cli_child(const char *path, int go)
{
	char err[256], c;
	struct store *cs;
	int ret = 1;

	if (read(go, &c, 1) != 1)
		_exit(2);
	cs = store_open(path, err, sizeof(err));
	if (cs && store_user_put(cs, "zoe", "Z.org", "1234", "") == 0)
		ret = 0;
	store_close(cs);
	_exit(ret);
}

static void test_reader_sees_other_process(void **state)
{
	struct fx *f = *state;
	struct store *s;
	struct store_reader *r;
	struct store_user u;
	sqlite3 *db;
	int go[2], st;
	pid_t pid;

	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		cli_child(f->path, go[0]);
	close(go[0]);
	s = fx_open(f);
	r = store_reader_new(s);
	assert_non_null(r);
	assert_int_equal(store_user_get(r, SL("zoe"), SL("z.org"), &u), -ENOENT);
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(store_user_get(r, SL("zoe"), SL("z.org"), &u), 0);
	assert_string_equal(u.ha1_md5, "1234");
	assert_int_equal(store_domain_exists(r, SL("z.org")), 0);

	/* And a change through a plain SQLite connection, both ways. */
	db = raw_open(f->path);
	raw_exec(db, "UPDATE users SET ha1_md5 = '5678' WHERE user = 'zoe'");
	assert_int_equal(store_user_get(r, SL("zoe"), SL("z.org"), &u), 0);
	assert_string_equal(u.ha1_md5, "5678");
	raw_exec(db, "DELETE FROM users");
	assert_int_equal(store_user_get(r, SL("zoe"), SL("z.org"), &u), -ENOENT);
	assert_int_equal(store_domain_exists(r, SL("z.org")), -ENOENT);
	sqlite3_close(db);
	store_reader_free(r);
	store_close(s);
}

/* A reader never holds a read transaction between calls (that would also
 * stop checkpoints): a writer can checkpoint fully right after a lookup. */
static void test_reader_holds_no_snapshot(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	struct store_reader *r = store_reader_new(s);
	struct store_user u;
	sqlite3 *db = raw_open(f->path);
	int logsz = -1, ckpt = -1;

	assert_int_equal(store_user_put(s, "a", "x.org", "1", ""), 0);
	assert_int_equal(store_user_get(r, SL("a"), SL("x.org"), &u), 0);
	assert_int_equal(store_domain_exists(r, SL("x.org")), 0);
	assert_int_equal(store_user_get(r, SL("b"), SL("x.org"), &u), -ENOENT);
	assert_int_equal(sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
						   &logsz, &ckpt), SQLITE_OK);
	sqlite3_close(db);
	store_reader_free(r);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_open_create_reopen),
		T(test_open_wal_mode),
		T(test_open_upgrades_v1),
		T(test_open_missing_dir),
		T(test_open_corrupt),
		T(test_open_foreign_db),
		T(test_open_newer_schema),
		T(test_open_locked),
		T(test_open_bad_args),
		T(test_users),
		T(test_users_bad_args),
		T(test_domain_exists),
		T(test_domain_exists_uses_index),
		T(test_bindings_apply),
		T(test_apply_invalid),
		T(test_apply_atomic),
		T(test_purge),
		T(test_purge_uses_index),
		T(test_purge_chunks),
		T(test_reader_sees_other_process),
		T(test_reader_holds_no_snapshot),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
