/*
 * shimrun: run a program under the shim with its JSON dumps going to a file
 * in the test's scratch directory, and read the dumps back.
 *
 * The dump file keeps stdout and stderr exactly the program's own, so a test
 * can check figures and unchanged behaviour from the same run.
 */
#ifndef WARD_TESTS_SHIMRUN_H
#define WARD_TESTS_SHIMRUN_H

#include <stdbool.h>

#include "dumps.h"
#include "run.h"

struct shim_run {
	struct run_result r;
	struct dump_set dumps;  /* every dump in the stats file, in order */
	char *stats;            /* the stats file's text ("" when none) */
	char stats_path[4096];
};

/* Run argv under the shim with WARD_STATS=DIR/stats.json (emptied first)
 * and the extra "NAME=value" entries of env (may be NULL). */
bool shim_run(const char *const argv[], const char *dir, const char *const *env,
              struct shim_run *out);
void shim_run_free(struct shim_run *s);

/* The dump of the started process itself (NULL if it wrote none). */
const struct dump *shim_run_main(const struct shim_run *s);

#endif
