/*
 * tmpdir.c: temporary files of tests (tmpdir.h). Shared by the unit tests, the
 * integration harness (tests/integration/itest.c) and tests/tmpdir_run.
 */
#include "tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *
tmpdir_path(void)
{
	const char *tmp = getenv("TMPDIR");

	return tmp != NULL && *tmp != '\0' ? tmp : "/tmp";
}

static bool
tmpl(char *buf, size_t size, const char *name)
{
	int n = snprintf(buf, size, "%s/%s-XXXXXX", tmpdir_path(), name);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return false;
	}
	return true;
}

char *
tmpdir_mkdtemp(char *buf, size_t size, const char *name)
{
	return tmpl(buf, size, name) ? mkdtemp(buf) : NULL;
}

int
tmpdir_mkstemp(char *buf, size_t size, const char *name)
{
	return tmpl(buf, size, name) ? mkstemp(buf) : -1;
}

int
tmpdir_list(const char *dir, char *buf, size_t size)
{
	struct dirent *e;
	int n = 0;
	DIR *d = opendir(dir);

	if (size > 0)
		buf[0] = '\0';
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		if (size > 0) {
			strncat(buf, " ", size - strlen(buf) - 1);
			strncat(buf, e->d_name, size - strlen(buf) - 1);
		}
	}
	closedir(d);
	return n;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
tmpdir_rm_tree(const char *dir)
{
	(void)nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int
tmpdir_children(pid_t *pids, int max)
{
	char path[64];
	long pid;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)getpid(), (long)getpid());
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fscanf(f, "%ld", &pid) == 1) {
		if (n < max)
			pids[n] = (pid_t)pid;
		n++;
	}
	fclose(f);
	return n;
}
