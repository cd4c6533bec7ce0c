/*
 * shimrun: one program run under the shim, dumps read back (see shimrun.h).
 */
#define _GNU_SOURCE
#include "shimrun.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"

bool
shim_run(const char *const argv[], const char *dir, const char *const *env, struct shim_run *out)
{
	char setting[4200];
	const char *all[16];
	size_t n = 0;
	memset(out, 0, sizeof(*out));
	snprintf(out->stats_path, sizeof(out->stats_path), "%s/stats.json", dir);
	unlink(out->stats_path);
	snprintf(setting, sizeof(setting), "WARD_STATS=%s", out->stats_path);
	all[n++] = setting;
	for (size_t i = 0; env != NULL && env[i] != NULL && n < 15; i++)
		all[n++] = env[i];
	all[n] = NULL;
	struct run_opts o = { .env = all, .shim = true, .timeout_ms = 60000 };
	if (!run_argv(argv, &o, &out->r))
		return false;
	out->stats = file_read(out->stats_path, NULL);
	if (out->stats == NULL)
		out->stats = strdup("");
	dumps_parse(out->stats, &out->dumps);
	return true;
}

void
shim_run_free(struct shim_run *s)
{
	run_free(&s->r);
	dumps_free(&s->dumps);
	free(s->stats);
	s->stats = NULL;
}

const struct dump *
shim_run_main(const struct shim_run *s)
{
	return dumps_find(&s->dumps, s->r.pid, NULL);
}
