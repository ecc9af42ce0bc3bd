/*
 * store_sqlite.c - the SQLite back end.
 *
 * One file in WAL mode with synchronous=FULL: a COMMIT returns once the WAL
 * is fsynced, and readers on other connections are never blocked by the
 * writer.  Every statement is prepared once per connection and reused, and
 * values only ever travel as bound parameters.  Statements are reset right
 * after use so no connection keeps a read transaction open between calls:
 * the next lookup always sees the latest commit, even another process's.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store_int.h"
#include "util/log.h"

#define SQ_SCHEMA_VERSION 2
/* Long enough to ride out another writer's commit, short enough that a
 * stuck lock fails a batch (and its REGISTERs get 503) instead of hanging. */
#define SQ_BUSY_MS 2000
/* Once a batch has waited SQ_BUSY_MS in vain, the lock is not a passing
 * commit: later batches wait this long only, until one gets through.
 * Requests for one AOR run one batch after another, so without it the
 * tenth REGISTER queued behind a stuck lock would wait twenty seconds. */
#define SQ_BUSY_STUCK_MS 250

enum sq_stmt {
	SQ_BEGIN, SQ_COMMIT, SQ_ROLLBACK,
	SQ_SAVEPOINT, SQ_RELEASE, SQ_ROLLBACK_TO,
	SQ_PUT, SQ_DEL, SQ_DEL_AOR,
	SQ_LOAD, SQ_LIST_AOR, SQ_LIST_ALL, SQ_MAX_ID, SQ_PURGE,
	SQ_USER_PUT, SQ_USER_DEL, SQ_USER_LIST,
	SQ_USER_GET, SQ_DOMAIN_EXISTS, SQ_USER_DECOY,
	SQ__COUNT
};

#define K_MAIN (1u << STORE_CONN_MAIN)
#define K_WRITER (1u << STORE_CONN_WRITER)
#define K_READER (1u << STORE_CONN_READER)

#define SQ_COLS "id, aor, contact, call_id, cseq, expires, updated, source, user_agent"

/* Each connection prepares only the statements its kind uses. */
static const struct {
	const char *sql;
	unsigned kinds;
} sq_defs[SQ__COUNT] = {
	[SQ_BEGIN] = { "BEGIN IMMEDIATE", K_MAIN | K_WRITER },
	[SQ_COMMIT] = { "COMMIT", K_MAIN | K_WRITER },
	[SQ_ROLLBACK] = { "ROLLBACK", K_MAIN | K_WRITER },
	[SQ_SAVEPOINT] = { "SAVEPOINT req", K_WRITER },
	[SQ_RELEASE] = { "RELEASE req", K_WRITER },
	[SQ_ROLLBACK_TO] = { "ROLLBACK TO req", K_WRITER },
	[SQ_PUT] = { "INSERT OR REPLACE INTO bindings(" SQ_COLS ")"
		     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", K_MAIN | K_WRITER },
	[SQ_DEL] = { "DELETE FROM bindings WHERE id = ?1", K_MAIN | K_WRITER },
	[SQ_DEL_AOR] = { "DELETE FROM bindings WHERE aor = ?1", K_MAIN | K_WRITER },
	[SQ_LOAD] = { "SELECT " SQ_COLS " FROM bindings WHERE expires > ?1 ORDER BY id", K_MAIN },
	[SQ_LIST_AOR] = { "SELECT " SQ_COLS " FROM bindings WHERE aor = ?1 AND expires > ?2"
			  " ORDER BY id", K_MAIN },
	[SQ_LIST_ALL] = { "SELECT " SQ_COLS " FROM bindings WHERE expires > ?1"
			  " ORDER BY aor, id", K_MAIN },
	[SQ_MAX_ID] = { "SELECT coalesce(max(id), 0) FROM bindings", K_MAIN },
	/* A range on the expires index, never a table scan; bounded, so one
	 * purge never holds the write lock long enough to delay commits. */
	[SQ_PURGE] = { "DELETE FROM bindings WHERE id IN (SELECT id FROM bindings"
		       " WHERE expires <= ?1 ORDER BY expires LIMIT ?2)", K_MAIN | K_WRITER },
	[SQ_USER_PUT] = { "INSERT OR REPLACE INTO users(user, domain, ha1_md5, ha1_sha256)"
			  " VALUES (?1, ?2, ?3, ?4)", K_MAIN },
	[SQ_USER_DEL] = { "DELETE FROM users WHERE user = ?1 AND domain = ?2", K_MAIN },
	[SQ_USER_LIST] = { "SELECT user, domain FROM users ORDER BY domain, user", K_MAIN },
	[SQ_USER_GET] = { "SELECT ha1_md5, ha1_sha256 FROM users WHERE user = ?1 AND domain = ?2",
			  K_READER },
	[SQ_DOMAIN_EXISTS] = { "SELECT 1 FROM users WHERE domain = ?1 LIMIT 1", K_READER },
	[SQ_USER_DECOY] = { "SELECT ?1, ?2", K_READER },
};

/*
 * Version 2 has no index on bindings(aor): the server deletes and rewrites
 * bindings by id, so that index only served the CLI's `bindings AOR` (a
 * scan is fine there) while every registration and every purged row paid
 * for keeping it up to date.
 */
static const char sq_schema_v2[] =
	"CREATE TABLE users(user TEXT NOT NULL, domain TEXT NOT NULL,"
	" ha1_md5 TEXT NOT NULL DEFAULT '', ha1_sha256 TEXT NOT NULL DEFAULT '',"
	" PRIMARY KEY(user, domain)) WITHOUT ROWID;"
	"CREATE INDEX users_domain ON users(domain);"
	"CREATE TABLE bindings(id INTEGER PRIMARY KEY, aor TEXT NOT NULL,"
	" contact TEXT NOT NULL, call_id TEXT NOT NULL, cseq INTEGER NOT NULL,"
	" expires INTEGER NOT NULL, updated INTEGER NOT NULL, source TEXT NOT NULL,"
	" user_agent TEXT NOT NULL);"
	"CREATE INDEX bindings_expires ON bindings(expires);"
	"PRAGMA user_version = 2;";

/* From version 1 (sipreg 0.1): the same tables, one index fewer. */
static const char sq_upgrade_v1[] =
	"DROP INDEX IF EXISTS bindings_aor;"
	"PRAGMA user_version = 2;";

struct sq_conn {
	struct store_conn base;    /* first: store.c only sees this */
	sqlite3 *db;
	sqlite3_stmt *st[SQ__COUNT];
	bool stuck;                /* writer: the last batch found the lock held */
};

/* A corrupt file fails every statement: say so loudly, but once. */
static atomic_bool sq_corrupt_logged;

static struct sq_conn *sq_of(struct store_conn *c)
{
	return (struct sq_conn *)c;
}

static int sq_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_NOMEM:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/* Log a failed statement (rate-limited: a full disk fails every batch). */
static int sq_fail(struct sq_conn *c, int rc, sqlite3_stmt *st)
{
	int prim = rc & 0xff;

	if (prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB) {
		if (!atomic_exchange(&sq_corrupt_logged, true))
			log_err("store: %s is corrupt (%s); restore it from a backup",
				sqlite3_db_filename(c->db, "main"), sqlite3_errmsg(c->db));
	} else {
		log_rl(LOG_RL_STORE, "store: %s: %s (%d)", sqlite3_sql(st),
		       sqlite3_errmsg(c->db), rc);
	}
	return sq_errno(rc);
}

/* Make a statement ready for its next use and drop pointers to caller memory. */
static void sq_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static int sq_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
}

static int sq_bind_sl(sqlite3_stmt *st, int i, sl_t s)
{
	return sqlite3_bind_text(st, i, s.p ? s.p : "", (int)s.len, SQLITE_STATIC);
}

/*
 * Run a statement that returns no rows (or whose rows are ignored), then
 * reset it.  bind is the OR of the bind calls' results: only zero or not
 * matters, the connection still holds the real error code and message.
 */
static int sq_exec(struct sq_conn *c, enum sq_stmt i, int bind)
{
	sqlite3_stmt *st = c->st[i];
	int ret = 0, rc;

	if (bind != SQLITE_OK) {
		ret = sq_fail(c, sqlite3_errcode(c->db), st);
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = sq_fail(c, rc, st);
out:
	sq_done(st);
	return ret;
}

static const char *sq_col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

/* ---- opening ---- */

/* The system's reason behind SQLite's, as " (reason)", or "". */
static const char *sq_why(int e, char *buf, size_t len)
{
	if (e <= 0)
		return "";
	snprintf(buf, len, " (%s)", strerror(e));
	return buf;
}

/*
 * "X is read-only" or "cannot open X" says too little when the file is
 * fine but its directory is not writable: SQLite keeps X-wal and X-shm
 * there.  Fills err and returns true when that is the case.
 */
static bool sq_dir_err(const char *path, const char *what, char *err, size_t errlen)
{
	char d[PATH_MAX], why[128];
	const char *dir;

	if (access(path, F_OK) < 0)
		return false;
	snprintf(d, sizeof(d), "%s", path);
	dir = dirname(d);
	if (access(dir, W_OK) == 0)
		return false;
	snprintf(err, errlen, "%s %s: its directory %s is not writable%s, and SQLite keeps"
		 " %s-wal and %s-shm there", what, path, dir, sq_why(errno, why, sizeof(why)),
		 path, path);
	return true;
}

/* Turn an SQLite failure during open into the one-line reason for err. */
static int sq_open_err(struct sq_conn *c, int rc, const char *path, char *err, size_t errlen)
{
	const char *msg = sqlite3_errmsg(c->db);
	char why[128];

	switch (rc & 0xff) {
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		snprintf(err, errlen, "%s is not a sipreg database or is corrupt: %s", path, msg);
		break;
	case SQLITE_READONLY:
		if (!sq_dir_err(path, "cannot write", err, errlen))
			snprintf(err, errlen, "%s is read-only", path);
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		snprintf(err, errlen, "%s is locked by another process (waited %d ms)",
			 path, SQ_BUSY_MS);
		break;
	case SQLITE_CANTOPEN:
		if (!sq_dir_err(path, "cannot open", err, errlen))
			snprintf(err, errlen, "cannot open %s: %s%s", path, msg,
				 sq_why(sqlite3_system_errno(c->db), why, sizeof(why)));
		break;
	case SQLITE_FULL:
		snprintf(err, errlen, "cannot write %s: disk full", path);
		break;
	case SQLITE_IOERR: {
		int e = sqlite3_system_errno(c->db);

		if (e == ENOSPC || e == EFBIG || e == EDQUOT)
			snprintf(err, errlen, "cannot write %s or its -wal or -shm file: %s",
				 path, strerror(e));
		else
			snprintf(err, errlen, "%s: %s%s", path, msg, sq_why(e, why, sizeof(why)));
		break;
	}
	default:
		snprintf(err, errlen, "%s: %s", path, msg);
		break;
	}
	return sq_errno(rc);
}

/* One-shot query of a single integer (open-time checks only). */
static int sq_query_int(struct sq_conn *c, const char *sql, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v3(c->db, sql, -1, 0, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* WAL lets readers run during the writer's commit; refuse to go without. */
static int sq_wal(struct sq_conn *c, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v3(c->db, "PRAGMA journal_mode = WAL", -1, 0, &st, NULL);
	int ret = 0;

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		ret = sq_open_err(c, rc, path, err, errlen);
		goto out;
	}
	if (strcmp(sq_col(st, 0), "wal") != 0) {
		snprintf(err, errlen, "%s: cannot use WAL journal mode (got %s)",
			 path, sq_col(st, 0));
		ret = -EIO;
	}
out:
	sqlite3_finalize(st);
	return ret;
}

/* ---- the WAL, checked before SQLite can silently drop part of it ---- */

#define SQ_WAL_MAGIC 0x377f0682u   /* low bit: checksums big-endian */
#define SQ_WAL_VERSION 3007000u
#define SQ_WAL_HDR 32
#define SQ_WAL_FHDR 24

static uint32_t sq_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t sq_le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* SQLite's WAL checksum (wal.c, walChecksumBytes); n is a multiple of 8. */
static void sq_wal_sum(bool be, const unsigned char *p, size_t n, uint32_t ck[2])
{
	uint32_t s1 = ck[0], s2 = ck[1];

	for (size_t i = 0; i < n; i += 8) {
		s1 += (be ? sq_be32(p + i) : sq_le32(p + i)) + s2;
		s2 += (be ? sq_be32(p + i + 4) : sq_le32(p + i + 4)) + s1;
	}
	ck[0] = s1;
	ck[1] = s2;
}

/* Is frame f (header + page) valid after a frame whose checksum was prev? */
static bool sq_wal_frame_ok(bool be, const unsigned char *hdr, const unsigned char *f,
			    uint32_t psz, const uint32_t prev[2])
{
	uint32_t ck[2] = { prev[0], prev[1] };

	if (memcmp(f + 8, hdr + 16, 8) != 0 || sq_be32(f) == 0)
		return false;
	sq_wal_sum(be, f, 8, ck);
	sq_wal_sum(be, f + SQ_WAL_FHDR, psz, ck);
	return ck[0] == sq_be32(f + 16) && ck[1] == sq_be32(f + 20);
}

/*
 * SQLite reads a WAL up to its first invalid frame and ignores the rest,
 * and ignores a WAL whose header is invalid: right after a torn write at a
 * crash that loses only what was never acknowledged, but after damage it
 * silently drops acknowledged commits.  Tell the two apart and refuse the
 * damage:
 *   - a header that is not a WAL header, in a file long enough to hold a
 *     frame (SQLite writes and syncs the header alone, before any frame);
 *   - after the first invalid frame, a chain of frames that are valid
 *     relative to each other and hold two commits or more: the second of
 *     them began only after the first was durable, so the invalid frame
 *     is not a torn tail.
 * Called with the write lock held, so that no writer changes the WAL.
 */
static int sq_wal_check(const char *path, char *err, size_t errlen)
{
	char wal[PATH_MAX + 8];
	unsigned char hdr[SQ_WAL_HDR], *f = NULL;
	uint32_t psz, prev[2], ck[2] = { 0, 0 }, frame, bad = 0, chain = 0, lost = 0;
	struct stat sb;
	bool be;
	int fd, ret = 0;

	if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", path) >= sizeof(wal))
		return 0;
	fd = open(wal, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;       /* none, or unreadable: SQLite says so itself */
	if (fstat(fd, &sb) < 0 || sb.st_size < SQ_WAL_HDR ||
	    pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		goto out;
	be = sq_be32(hdr) & 1;
	psz = sq_be32(hdr + 8);
	sq_wal_sum(be, hdr, 24, ck);
	if ((sq_be32(hdr) & ~1u) != SQ_WAL_MAGIC || sq_be32(hdr + 4) != SQ_WAL_VERSION ||
	    psz < 512 || psz > 65536 || (psz & (psz - 1)) ||
	    ck[0] != sq_be32(hdr + 24) || ck[1] != sq_be32(hdr + 28)) {
		if (sb.st_size >= SQ_WAL_HDR + SQ_WAL_FHDR + 512) {
			snprintf(err, errlen, "%s is corrupt (its header is not a WAL header):"
				 " SQLite would ignore the %lld bytes of committed changes in it;"
				 " restore %s and its -wal from a backup, or move %s away to"
				 " start without them", wal, (long long)sb.st_size, path, wal);
			ret = -EIO;
		}
		goto out;
	}
	f = malloc(SQ_WAL_FHDR + psz);
	if (!f)
		goto out;
	prev[0] = ck[0];
	prev[1] = ck[1];
	for (frame = 1;; frame++) {
		off_t off = SQ_WAL_HDR + (off_t)(frame - 1) * (SQ_WAL_FHDR + psz);
		ssize_t n = pread(fd, f, SQ_WAL_FHDR + psz, off);
		bool ok;

		if (n != (ssize_t)(SQ_WAL_FHDR + psz))
			break;
		ok = sq_wal_frame_ok(be, hdr, f, psz, prev);
		if (!bad && !ok) {
			bad = frame;
		} else if (bad && ok) {
			chain += sq_be32(f + 4) != 0;    /* a commit frame */
			if (chain > lost)
				lost = chain;
		} else if (bad) {
			chain = 0;
		}
		prev[0] = sq_be32(f + 16);
		prev[1] = sq_be32(f + 20);
	}
	if (lost >= 2) {
		snprintf(err, errlen, "%s is corrupt at frame %u: SQLite would drop the %u"
			 " transactions committed after it; restore %s and its -wal from a"
			 " backup, or move %s away to start without them", wal, bad, lost,
			 path, wal);
		ret = -EIO;
	}
out:
	free(f);
	close(fd);
	return ret;
}

/*
 * Catch a damaged file at start rather than at the first request that
 * touches the bad page: quick_check reads every page (a fraction of a
 * second for a million bindings) and runs outside any write lock.
 */
static int sq_quick_check(struct sq_conn *c, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v3(c->db, "PRAGMA quick_check(1)", -1, 0, &st, NULL);
	int ret = 0;

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && strcmp(sq_col(st, 0), "ok") != 0) {
		snprintf(err, errlen, "%s is corrupt: %s; restore it from a backup",
			 path, sq_col(st, 0));
		for (char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
		ret = -EIO;
	} else if (rc != SQLITE_ROW) {
		ret = sq_open_err(c, rc, path, err, errlen);
	}
	sqlite3_finalize(st);
	return ret;
}

/*
 * Create or check the schema inside BEGIN IMMEDIATE: that also proves at
 * start-up that the file can be written (not read-only, not locked).
 */
static int sq_schema(struct sq_conn *c, const char *path, char *err, size_t errlen)
{
	int rc, ret = 0, version = 0, objects = 0;

	rc = sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK && (ret = sq_wal_check(path, err, errlen)) < 0)
		goto out;
	if (rc == SQLITE_OK)
		rc = sq_query_int(c, "PRAGMA user_version", &version);
	if (rc == SQLITE_OK && version == 0)
		rc = sq_query_int(c, "SELECT count(*) FROM sqlite_master", &objects);
	if (rc != SQLITE_OK)
		goto out;
	if (version > SQ_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s has schema version %d, newer than this sipreg"
			 " understands (%d): upgrade sipreg", path, version, SQ_SCHEMA_VERSION);
		ret = -EPROTONOSUPPORT;
		goto out;
	}
	if (version == 0 && objects > 0) {
		/* Someone else's SQLite file: do not add our tables to it. */
		snprintf(err, errlen, "%s is not a sipreg database (it holds other tables)", path);
		ret = -EINVAL;
		goto out;
	}
	if (version == 0)
		rc = sqlite3_exec(c->db, sq_schema_v2, NULL, NULL, NULL);
	else if (version == 1)
		rc = sqlite3_exec(c->db, sq_upgrade_v1, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
out:
	if (rc != SQLITE_OK)
		ret = sq_open_err(c, rc, path, err, errlen);
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

static int sq_setup(struct sq_conn *c, enum store_conn_kind kind, const char *path,
		    char *err, size_t errlen)
{
	int rc, ret;

	if (kind != STORE_CONN_READER && sqlite3_db_readonly(c->db, "main") == 1) {
		snprintf(err, errlen, "%s is read-only", path);
		return -EROFS;
	}
	rc = sqlite3_exec(c->db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sq_open_err(c, rc, path, err, errlen);
	if (kind == STORE_CONN_READER)
		return 0;
	ret = sq_wal(c, path, err, errlen);
	if (ret < 0)
		return ret;
	/* Per connection: the writer's COMMIT must fsync too. */
	rc = sqlite3_exec(c->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sq_open_err(c, rc, path, err, errlen);
	/* The writer touches the id, aor and expires B-trees of a million
	 * rows: keep their inner pages cached (64 MiB, allocated as used). */
	if (kind == STORE_CONN_WRITER &&
	    (rc = sqlite3_exec(c->db, "PRAGMA cache_size = -65536", NULL, NULL, NULL)) != SQLITE_OK)
		return sq_open_err(c, rc, path, err, errlen);
	/* The writer's commits never checkpoint (store_checkpoint does it
	 * from the main thread): a checkpoint in a commit would delay every
	 * 200 of that batch by the time it takes to copy and fsync pages. */
	if (kind == STORE_CONN_WRITER &&
	    (rc = sqlite3_exec(c->db, "PRAGMA wal_autocheckpoint = 0", NULL, NULL, NULL)) != SQLITE_OK)
		return sq_open_err(c, rc, path, err, errlen);
	/* Pages the writer's cache misses are read through a mapping, not a
	 * pread and a copy each: at a million bindings most leaf pages miss.
	 * (The mapping is the kernel's page cache; it adds no copy of it.) */
	if (kind == STORE_CONN_WRITER &&
	    (rc = sqlite3_exec(c->db, "PRAGMA mmap_size = 1073741824", NULL, NULL, NULL)) != SQLITE_OK)
		return sq_open_err(c, rc, path, err, errlen);
	if (kind != STORE_CONN_MAIN)
		return 0;
	ret = sq_schema(c, path, err, errlen);
	return ret < 0 ? ret : sq_quick_check(c, path, err, errlen);
}

static int sq_prepare(struct sq_conn *c, enum store_conn_kind kind, const char *path,
		      char *err, size_t errlen)
{
	for (int i = 0; i < SQ__COUNT; i++) {
		int rc;

		if (!(sq_defs[i].kinds & (1u << kind)))
			continue;
		rc = sqlite3_prepare_v3(c->db, sq_defs[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
					&c->st[i], NULL);
		if (rc != SQLITE_OK)
			return sq_open_err(c, rc, path, err, errlen);
	}
	return 0;
}

static void sq_close(struct store_conn *sc)
{
	struct sq_conn *c = sq_of(sc);

	if (!c)
		return;
	for (int i = 0; i < SQ__COUNT; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close_v2(c->db);
	free(c);
}

static int sq_open(const char *path, enum store_conn_kind kind, struct store_conn **out,
		   char *err, size_t errlen)
{
	struct sq_conn *c = calloc(1, sizeof(*c));
	/* Readers cannot write even by mistake; no URI parsing of the path. */
	int flags = SQLITE_OPEN_NOMUTEX | (kind == STORE_CONN_READER ? SQLITE_OPEN_READONLY :
					   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	char why[128];
	int rc, ret = 0;

	*out = NULL;
	if (!c) {
		snprintf(err, errlen, "cannot open %s: out of memory", path);
		return -ENOMEM;
	}
	c->base.ops = &store_sqlite_ops;
	rc = sqlite3_open_v2(path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s%s", path,
			 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc),
			 sq_why(c->db ? sqlite3_system_errno(c->db) : 0, why, sizeof(why)));
		ret = sq_errno(rc);
		goto out;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, SQ_BUSY_MS);
	ret = sq_setup(c, kind, path, err, errlen);
	if (ret == 0)
		ret = sq_prepare(c, kind, path, err, errlen);
out:
	if (ret < 0) {
		/* Closing the last connection would checkpoint, then delete the
		 * WAL: not with a file we just refused, whose WAL may be all
		 * that is left of acknowledged changes. */
		if (c->db)
			sqlite3_db_config(c->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
		sq_close(&c->base);
	} else {
		*out = &c->base;
	}
	return ret;
}

/* ---- changes ---- */

static int sq_change(struct sq_conn *c, const struct store_change *ch)
{
	const struct store_binding *b = &ch->b;
	sqlite3_stmt *st;

	switch (ch->op) {
	case STORE_PUT:
		st = c->st[SQ_PUT];
		return sq_exec(c, SQ_PUT, sqlite3_bind_int64(st, 1, b->id) |
			       sq_bind_text(st, 2, b->aor) | sq_bind_text(st, 3, b->contact) |
			       sq_bind_text(st, 4, b->call_id) |
			       sqlite3_bind_int64(st, 5, b->cseq) |
			       sqlite3_bind_int64(st, 6, b->expires) |
			       sqlite3_bind_int64(st, 7, b->updated) |
			       sq_bind_text(st, 8, b->source) |
			       sq_bind_text(st, 9, b->user_agent));
	case STORE_DEL:
		return sq_exec(c, SQ_DEL, sqlite3_bind_int64(c->st[SQ_DEL], 1, b->id));
	case STORE_DEL_AOR:
		return sq_exec(c, SQ_DEL_AOR, sq_bind_text(c->st[SQ_DEL_AOR], 1, b->aor));
	}
	return -EINVAL;
}

static int sq_changes(struct sq_conn *c, const struct store_change *ch, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int ret = sq_change(c, &ch[i]);

		if (ret < 0)
			return ret;
	}
	return 0;
}

static int sq_begin(struct sq_conn *c)
{
	/* A ROLLBACK that failed earlier must not wedge every later batch. */
	if (!sqlite3_get_autocommit(c->db))
		sq_exec(c, SQ_ROLLBACK, 0);
	return sq_exec(c, SQ_BEGIN, 0);
}

/* COMMIT when all went well, else ROLLBACK unless SQLite already did. */
static int sq_finish(struct sq_conn *c, int ret)
{
	if (ret == 0)
		ret = sq_exec(c, SQ_COMMIT, 0);
	if (ret < 0 && !sqlite3_get_autocommit(c->db))
		sq_exec(c, SQ_ROLLBACK, 0);
	return ret;
}

static int sq_apply(struct store_conn *sc, const struct store_change *ch, size_t n)
{
	struct sq_conn *c = sq_of(sc);
	int ret = sq_begin(c);

	if (ret == 0)
		ret = sq_changes(c, ch, n);
	return sq_finish(c, ret);
}

/*
 * One request inside the batch transaction, under a savepoint so its
 * failure undoes only its own changes.  *broken is set when the outer
 * transaction cannot be trusted any more: SQLite rolled it back itself
 * (full disk, I/O error) or the savepoint could not be undone.
 */
static int sq_apply_req(struct sq_conn *c, const struct store_req *r, bool *broken)
{
	int ret = sq_exec(c, SQ_SAVEPOINT, 0);

	if (ret == 0)
		ret = sq_changes(c, r->changes, r->nchanges);
	if (sqlite3_get_autocommit(c->db)) {
		*broken = true;
		return ret < 0 ? ret : -EIO;
	}
	if (ret < 0 && sq_exec(c, SQ_ROLLBACK_TO, 0) < 0) {
		*broken = true;
		return ret;
	}
	if (sq_exec(c, SQ_RELEASE, 0) < 0) {
		*broken = true;
		return ret < 0 ? ret : -EIO;
	}
	return ret;
}

/* Wait SQ_BUSY_MS for the write lock, or SQ_BUSY_STUCK_MS while stuck. */
static void sq_busy_adapt(struct sq_conn *c, bool stuck)
{
	if (stuck == c->stuck)
		return;
	c->stuck = stuck;
	sqlite3_busy_timeout(c->db, stuck ? SQ_BUSY_STUCK_MS : SQ_BUSY_MS);
	if (stuck)
		log_warn("store: %s stays locked by another process: commits fail after"
			 " %d ms until it is released", sqlite3_db_filename(c->db, "main"),
			 SQ_BUSY_STUCK_MS);
	else
		log_info("store: %s is no longer locked", sqlite3_db_filename(c->db, "main"));
}

/* Expired rows, deleted in the open transaction under a savepoint of
 * their own; returns the count, or <0 with *broken set if the
 * transaction is lost. */
static int sq_purge_in_txn(struct sq_conn *c, int64_t before, int limit, bool *broken)
{
	int ret = sq_exec(c, SQ_SAVEPOINT, 0), n = 0;

	if (ret == 0) {
		ret = sq_exec(c, SQ_PURGE, sqlite3_bind_int64(c->st[SQ_PURGE], 1, before) |
					   sqlite3_bind_int(c->st[SQ_PURGE], 2, limit));
		n = ret < 0 ? 0 : sqlite3_changes(c->db);
	}
	if (sqlite3_get_autocommit(c->db)) {
		*broken = true;
		return ret < 0 ? ret : -EIO;
	}
	if ((ret < 0 && sq_exec(c, SQ_ROLLBACK_TO, 0) < 0) || sq_exec(c, SQ_RELEASE, 0) < 0) {
		*broken = true;
		return -EIO;
	}
	return ret < 0 ? ret : n;
}

static int sq_apply_batch(struct store_conn *sc, struct store_req *const *reqs, size_t n,
			  int64_t purge_before, int purge_limit, int *purged)
{
	struct sq_conn *c = sq_of(sc);
	bool broken = false;
	int ret = sq_begin(c), np;

	*purged = 0;
	for (size_t i = 0; i < n && ret == 0; i++) {
		reqs[i]->result = sq_apply_req(c, reqs[i], &broken);
		if (broken)
			ret = reqs[i]->result;
	}
	if (ret == 0 && purge_before > 0) {
		np = sq_purge_in_txn(c, purge_before, purge_limit, &broken);
		if (broken)
			ret = np;
		else
			*purged = np < 0 ? 0 : np;
	}
	ret = sq_finish(c, ret);
	if (ret < 0) {
		*purged = 0;
		for (size_t i = 0; i < n; i++)
			reqs[i]->result = ret;
	}
	sq_busy_adapt(c, ret == -EBUSY);
	return ret;
}

/* Checkpoint once the WAL holds about what SQLite's own default would
 * (1000 pages): small ones are left alone, as SQLite would. */
#define SQ_CKPT_WAL_BYTES (1000 * 4096)

static int sq_checkpoint(struct store_conn *sc)
{
	struct sq_conn *c = sq_of(sc);
	char wal[PATH_MAX];
	struct stat sb;
	int rc;

	if (snprintf(wal, sizeof(wal), "%s-wal", sqlite3_db_filename(c->db, "main")) >= (int)sizeof(wal) ||
	    stat(wal, &sb) < 0 || sb.st_size < SQ_CKPT_WAL_BYTES)
		return 0;
	rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);

	if (rc == SQLITE_OK || rc == SQLITE_BUSY)
		return 0;
	log_rl(LOG_RL_STORE, "store: checkpoint: %s (%d)", sqlite3_errmsg(c->db), rc);
	return sq_errno(rc);
}

static int sq_purge(struct store_conn *sc, int64_t now, int limit)
{
	struct sq_conn *c = sq_of(sc);
	int ret = sq_exec(c, SQ_PURGE, sqlite3_bind_int64(c->st[SQ_PURGE], 1, now) |
				       sqlite3_bind_int(c->st[SQ_PURGE], 2, limit));

	return ret < 0 ? ret : sqlite3_changes(c->db);
}

/* ---- binding reads ---- */

static void sq_row_binding(sqlite3_stmt *st, struct store_binding *b)
{
	b->id = sqlite3_column_int64(st, 0);
	b->aor = sq_col(st, 1);
	b->contact = sq_col(st, 2);
	b->call_id = sq_col(st, 3);
	b->cseq = (uint32_t)sqlite3_column_int64(st, 4);
	b->expires = sqlite3_column_int64(st, 5);
	b->updated = sqlite3_column_int64(st, 6);
	b->source = sq_col(st, 7);
	b->user_agent = sq_col(st, 8);
}

/* Hand each row to cb; the strings live until the next step. */
static int sq_each_binding(struct sq_conn *c, enum sq_stmt i, int bind,
			   store_binding_cb cb, void *arg)
{
	sqlite3_stmt *st = c->st[i];
	struct store_binding b;
	int rc, ret = 0;

	if (bind != SQLITE_OK) {
		ret = sq_fail(c, sqlite3_errcode(c->db), st);
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sq_row_binding(st, &b);
		ret = cb(&b, arg);
		if (ret < 0)
			goto out;
	}
	ret = rc == SQLITE_DONE ? 0 : sq_fail(c, rc, st);
out:
	sq_done(st);
	return ret;
}

static int sq_load(struct store_conn *sc, int64_t now, store_binding_cb cb, void *arg)
{
	struct sq_conn *c = sq_of(sc);

	return sq_each_binding(c, SQ_LOAD, sqlite3_bind_int64(c->st[SQ_LOAD], 1, now), cb, arg);
}

static int sq_list(struct store_conn *sc, const char *aor, int64_t now,
		   store_binding_cb cb, void *arg)
{
	struct sq_conn *c = sq_of(sc);
	sqlite3_stmt *st;

	if (!aor) {
		st = c->st[SQ_LIST_ALL];
		return sq_each_binding(c, SQ_LIST_ALL, sqlite3_bind_int64(st, 1, now), cb, arg);
	}
	st = c->st[SQ_LIST_AOR];
	return sq_each_binding(c, SQ_LIST_AOR, sq_bind_text(st, 1, aor) |
			       sqlite3_bind_int64(st, 2, now), cb, arg);
}

static int sq_max_id(struct store_conn *sc, int64_t *out)
{
	struct sq_conn *c = sq_of(sc);
	sqlite3_stmt *st = c->st[SQ_MAX_ID];
	int rc = sqlite3_step(st), ret = 0;

	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		ret = sq_fail(c, rc, st);
	sq_done(st);
	return ret;
}

/* ---- subscribers ---- */

static int sq_user_put(struct store_conn *sc, const char *user, const char *domain,
		       const char *ha1_md5, const char *ha1_sha256)
{
	struct sq_conn *c = sq_of(sc);
	sqlite3_stmt *st = c->st[SQ_USER_PUT];

	return sq_exec(c, SQ_USER_PUT, sq_bind_text(st, 1, user) | sq_bind_text(st, 2, domain) |
		       sq_bind_text(st, 3, ha1_md5) | sq_bind_text(st, 4, ha1_sha256));
}

static int sq_user_del(struct store_conn *sc, const char *user, const char *domain)
{
	struct sq_conn *c = sq_of(sc);
	sqlite3_stmt *st = c->st[SQ_USER_DEL];
	int ret = sq_exec(c, SQ_USER_DEL, sq_bind_text(st, 1, user) | sq_bind_text(st, 2, domain));

	if (ret == 0 && sqlite3_changes(c->db) == 0)
		ret = -ENOENT;
	return ret;
}

static int sq_user_list(struct store_conn *sc, store_user_cb cb, void *arg)
{
	struct sq_conn *c = sq_of(sc);
	sqlite3_stmt *st = c->st[SQ_USER_LIST];
	int rc, ret = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = cb(sq_col(st, 0), sq_col(st, 1), arg);
		if (ret < 0)
			goto out;
	}
	ret = rc == SQLITE_DONE ? 0 : sq_fail(c, rc, st);
out:
	sq_done(st);
	return ret;
}

/* ---- readers ---- */

static int sq_copy_ha1(sqlite3_stmt *st, int i, char *dst)
{
	const char *t = sq_col(st, i);
	size_t n = strlen(t);

	if (n > STORE_HA1_MAX)
		return -EIO;
	memcpy(dst, t, n + 1);
	return 0;
}

/*
 * An unknown user costs what a known one does: a found row is decoded and
 * copied, so a miss decodes and copies a row of the same shape (HA1s of
 * the same lengths) from a table-less SELECT.  Without it a wrong password
 * for an existing user answers measurably later than for a made-up one.
 */
static void sq_user_decoy(struct sq_conn *c, struct store_user *out)
{
	static const char md5[] = "00000000000000000000000000000000";
	static const char sha[] = "0000000000000000000000000000000000000000000000000000000000000000";
	sqlite3_stmt *st = c->st[SQ_USER_DECOY];

	if (sqlite3_bind_text(st, 1, md5, sizeof(md5) - 1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_text(st, 2, sha, sizeof(sha) - 1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sq_copy_ha1(st, 0, out->ha1_md5) == 0)
		(void)sq_copy_ha1(st, 1, out->ha1_sha256);
	sq_done(st);
	out->ha1_md5[0] = out->ha1_sha256[0] = '\0'; /* nothing of it is used */
}

static int sq_user_get(struct store_conn *sc, sl_t user, sl_t domain, struct store_user *out)
{
	struct sq_conn *c = sq_of(sc);
	sqlite3_stmt *st = c->st[SQ_USER_GET];
	int rc, ret = 0;

	if ((sq_bind_sl(st, 1, user) | sq_bind_sl(st, 2, domain)) != SQLITE_OK) {
		ret = sq_fail(c, sqlite3_errcode(c->db), st);
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = -ENOENT;
		sq_user_decoy(c, out);
	} else if (rc != SQLITE_ROW) {
		ret = sq_fail(c, rc, st);
	} else if (sq_copy_ha1(st, 0, out->ha1_md5) < 0 ||
		   sq_copy_ha1(st, 1, out->ha1_sha256) < 0) {
		log_rl(LOG_RL_STORE, "store: subscriber %.*s has an over-long HA1",
		       (int)user.len, user.p);
		ret = -EIO;
	}
out:
	/* Ends the read transaction: the next call sees newer commits. */
	sq_done(st);
	return ret;
}

static int sq_domain_exists(struct store_conn *sc, sl_t domain)
{
	struct sq_conn *c = sq_of(sc);
	sqlite3_stmt *st = c->st[SQ_DOMAIN_EXISTS];
	int rc, ret;

	if (sq_bind_sl(st, 1, domain) != SQLITE_OK) {
		ret = sq_fail(c, sqlite3_errcode(c->db), st);
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ret = 0;
	else if (rc == SQLITE_DONE)
		ret = -ENOENT;
	else
		ret = sq_fail(c, rc, st);
out:
	sq_done(st);
	return ret;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.apply = sq_apply,
	.apply_batch = sq_apply_batch,
	.load = sq_load,
	.list = sq_list,
	.max_id = sq_max_id,
	.purge = sq_purge,
	.checkpoint = sq_checkpoint,
	.user_put = sq_user_put,
	.user_del = sq_user_del,
	.user_list = sq_user_list,
	.user_get = sq_user_get,
	.domain_exists = sq_domain_exists,
};
