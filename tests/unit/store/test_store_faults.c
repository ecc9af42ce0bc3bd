/*
 * test_store_faults.c - damaged files are refused at open with one line
 * naming the file, and a refused file is left exactly as it was: a garbage
 * page (quick_check), a garbage WAL header, garbage in a WAL frame with
 * commits after it.  A torn WAL tail (what a crash leaves) is not damage.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"

#include "store/store_fx.h"
#include "store/store_raw.h"

#define PSZ 4096
#define FRAME (24 + PSZ)


static void put(struct store *s, int64_t id)
{
	char contact[64];
	struct store_change ch = {
		.op = STORE_PUT,
		.b = { .id = id, .aor = "a@x", .contact = contact, .call_id = "c", .cseq = 1,
		       .expires = 4000000000, .updated = 1, .source = "udp:127.0.0.1:5060",
		       .user_agent = "" },
	};

	snprintf(contact, sizeof(contact), "<sip:a@127.0.0.1:%lld>", (long long)id);
	assert_int_equal(store_apply(s, &ch, 1), 0);
}

static int count_cb(const struct store_binding *b, void *arg)
{
	(void)b;
	(*(int *)arg)++;
	return 0;
}

static int count(struct store *s)
{
	int n = 0;

	assert_int_equal(store_list_bindings(s, NULL, 0, count_cb, &n), 0);
	return n;
}

/*
 * n commits (one binding each) that only the WAL holds, as after kill -9:
 * a second connection stays open so closing the store does not checkpoint,
 * and it closes without checkpointing itself.
 */
static void wal_with_commits(struct fx *f, int n)
{
	struct store *s = fx_open(f);
	sqlite3 *hold = raw_open(f->path);

	raw_exec(hold, "SELECT 1 FROM users LIMIT 1");
	for (int i = 1; i <= n; i++)
		put(s, i);
	store_close(s);
	sqlite3_db_config(hold, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_close(hold);
}

static char *wal_path(struct fx *f, char *buf, size_t len)
{
	snprintf(buf, len, "%s-wal", f->path);
	return buf;
}

static long file_size(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 ? (long)sb.st_size : -1;
}

static void scribble(const char *p, long off, size_t n)
{
	FILE *fp = fopen(p, "r+b");

	assert_non_null(fp);
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	for (size_t i = 0; i < n; i++)
		fputc((int)((i * 131 + 17) & 0xff), fp);
	fclose(fp);
}

static char *slurp(const char *p, long *len)
{
	FILE *fp = fopen(p, "rb");
	char *b;

	assert_non_null(fp);
	*len = file_size(p);
	b = malloc((size_t)*len + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)*len, fp), (size_t)*len);
	fclose(fp);
	return b;
}

/* open must fail with a message containing want, and touch nothing. */
static void refused(struct fx *f, const char *want)
{
	char wal[256];
	long n0, n1;
	char *before = slurp(wal_path(f, wal, sizeof(wal)), &n0), *after;

	assert_null(store_open(f->path, f->err, sizeof(f->err)));
	if (!strstr(f->err, want))
		fprintf(stderr, "error: %s\n", f->err);
	assert_non_null(strstr(f->err, want));
	assert_non_null(strstr(f->err, f->path));
	assert_null(strchr(f->err, '\n'));
	after = slurp(wal, &n1);
	assert_int_equal(n0, n1);
	assert_memory_equal(before, after, (size_t)n0);
	free(before);
	free(after);
}

static void test_garbage_page(void **state)
{
	struct fx *f = *state;
	struct store *s = fx_open(f);
	sqlite3 *db;
	long root;

	for (int i = 1; i <= 500; i++)
		put(s, i);
	store_close(s);
	db = raw_open(f->path);
	root = raw_int(db, "SELECT rootpage FROM sqlite_master WHERE name = 'bindings_expires'");
	sqlite3_close(db);
	scribble(f->path, (root - 1) * PSZ + 8, 200);
	assert_null(store_open(f->path, f->err, sizeof(f->err)));
	assert_non_null(strstr(f->err, " is corrupt: "));
	assert_non_null(strstr(f->err, f->path));
	assert_null(strchr(f->err, '\n'));
}

static void test_wal_garbage_header(void **state)
{
	struct fx *f = *state;
	char wal[256];

	wal_with_commits(f, 5);
	assert_true(file_size(wal_path(f, wal, sizeof(wal))) > 5 * FRAME);
	scribble(wal, 0, 32);
	refused(f, "-wal is corrupt (its header is not a WAL header)");
}

static void test_wal_garbage_frame(void **state)
{
	struct fx *f = *state;
	char wal[256], *good;
	long n;
	struct store *s;
	FILE *fp;

	wal_with_commits(f, 5);
	good = slurp(wal_path(f, wal, sizeof(wal)), &n);
	scribble(wal, 32 + FRAME + 24 + 100, 500);      /* in frame 2's page */
	refused(f, "-wal is corrupt at frame 2");
	/* the same again with the header of frame 2 gone too */
	scribble(wal, 32 + FRAME, 64);
	refused(f, "-wal is corrupt at frame 2");
	/* put back, nothing was lost */
	fp = fopen(wal, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(good, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	free(good);
	s = fx_open(f);
	assert_int_equal(count(s), 5);
	store_close(s);
}

/* What a crash in the middle of the last commit leaves: that commit is
 * dropped (it was never acknowledged), the file opens. */
static void test_wal_torn_tail(void **state)
{
	struct fx *f = *state;
	char wal[256];
	struct store *s;
	long n;

	wal_with_commits(f, 5);
	n = (file_size(wal_path(f, wal, sizeof(wal))) - 32) / FRAME;
	assert_true(n >= 7);
	/* the last commit spans two frames (table and expires index):
	 * damage its first frame; its commit frame after it still chains */
	scribble(wal, 32 + (n - 2) * FRAME + 24 + 100, 500);
	s = fx_open(f);
	assert_int_equal(count(s), 4);
	store_close(s);
}

/* A WAL that only holds a header (or less) is nothing to lose. */
static void test_wal_short(void **state)
{
	struct fx *f = *state;
	char wal[256];
	struct store *s;
	FILE *fp;

	store_close(fx_open(f));
	fp = fopen(wal_path(f, wal, sizeof(wal)), "wb");
	assert_non_null(fp);
	fputs("not a wal header, but short", fp);
	fclose(fp);
	s = fx_open(f);
	put(s, 1);
	store_close(s);
	s = fx_open(f);
	assert_int_equal(count(s), 1);
	store_close(s);
}

/* A missing directory: the message names the file and the system's reason. */
static void test_open_error_names_errno(void **state)
{
	struct fx *f = *state;
	char path[256];

	snprintf(path, sizeof(path), "%s/none/x.db", f->dir);
	assert_null(store_open(path, f->err, sizeof(f->err)));
	assert_non_null(strstr(f->err, path));
	assert_non_null(strstr(f->err, "(No such file or directory)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_garbage_page),
		T(test_wal_garbage_header),
		T(test_wal_garbage_frame),
		T(test_wal_torn_tail),
		T(test_wal_short),
		T(test_open_error_names_errno),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
