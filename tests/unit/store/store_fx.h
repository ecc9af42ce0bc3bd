/*
 * store_fx.h - the fixture shared by the store tests: a fresh temporary
 * directory per test, removed with everything in it afterwards.
 */
#ifndef SR_TEST_STORE_FX_H
#define SR_TEST_STORE_FX_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

struct fx {
	char dir[64];
	char path[128];
	char err[256];
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/sipreg-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/s.db", f->dir);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char p[512];
	struct dirent *e;
	DIR *d = opendir(f->dir);

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
			unlink(p);
		}
	if (d)
		closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct store *fx_open(struct fx *f)
{
	struct store *s = store_open(f->path, f->err, sizeof(f->err));

	if (!s)
		fprintf(stderr, "store_open: %s\n", f->err);
	assert_non_null(s);
	return s;
}

#endif
