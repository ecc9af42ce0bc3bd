/*
 * store_raw.h - a second, independent SQLite connection for the store
 * tests, as another process (the CLI, an operator's sqlite3) would use.
 */
#ifndef SR_TEST_STORE_RAW_H
#define SR_TEST_STORE_RAW_H

#include <stdio.h>

#include <sqlite3.h>

static inline sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 2000);
	return db;
}

static inline void raw_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		fprintf(stderr, "%s: %s\n", sql, msg ? msg : "?");
	sqlite3_free(msg);
	assert_int_equal(rc, SQLITE_OK);
}

static inline long raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

#endif
