/*
 * report: figures of many processes merged, in total and per program.
 *
 * Fed from a process tree's shared records (ward run) or from JSON dumps
 * (ward report).  Knows the counter layout only through struct
 * ward_report_layout, which the caller fills from the call table.
 */
#ifndef WARD_CORE_REPORT_H
#define WARD_CORE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "counters.h"
#include "stats.h"

struct ward_report_layout {
	size_t ncalls;
	const char *const *names; /* counters 3i, 3i+1, 3i+2: calls, errors, denied of names[i] */
	unsigned int files_opened, files_closed, bytes_read, bytes_written;
	unsigned int decisions, policy_denied, audited;
	unsigned int forks, execs, spawns;
	unsigned int allocations, frees, heap_allocated, heap_freed;
	unsigned int heap_peak; /* a level (counters.h): merged by maximum */
};

struct ward_report_program {
	char exe[64];
	uint64_t processes;
	uint64_t unfinished; /* killed, or still running at the report */
	uint64_t value[WARD_COUNTERS_MAX];
};

struct ward_report {
	const struct ward_report_layout *layout;
	struct ward_report_program *program;
	size_t nprograms, cap;
	struct ward_report_program total;
	uint64_t unrecorded; /* processes the tree had no room for */
};

void ward_report_init(struct ward_report *r, const struct ward_report_layout *layout);
void ward_report_free(struct ward_report *r);
/* One process image's figures. */
void ward_report_add(struct ward_report *r, const char *exe, const uint64_t value[WARD_COUNTERS_MAX],
                     bool finished);
/* One JSON dump line (docs/STATS.md); false if it is not one. */
bool ward_report_add_json(struct ward_report *r, const char *line);
/* Totals, then one block per program; text, json or prom. */
void ward_report_print(struct ward_report *r, enum ward_stats_format format, FILE *out);

#endif
