/*
 * stats: one process's figures and their three printed forms.
 *
 * The formatter writes into a caller-supplied buffer (no malloc: it runs at
 * exit inside other people's programs) and returns the length it needed, so
 * a short buffer is detectable.  Formats are documented in docs/STATS.md;
 * JSON keys are stable (ward_stats_version 1).
 */
#ifndef WARD_CORE_STATS_H
#define WARD_CORE_STATS_H

#include <stddef.h>
#include <stdint.h>

enum ward_stats_format { WARD_FORMAT_TEXT, WARD_FORMAT_JSON, WARD_FORMAT_PROM };

struct ward_stats_call {
	const char *name;
	uint64_t calls;
	uint64_t errors;
	uint64_t denied;
};

struct ward_stats {
	long pid;
	const char *exe;
	const char *reason; /* "exit", "_exit", "exec" */
	struct ward_stats_call *call; /* may be reordered by the text formatter */
	size_t ncalls;
	uint64_t files_opened;
	uint64_t files_closed;
	uint64_t files_open_now;
	uint64_t files_open_peak;
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint64_t forks;
	uint64_t execs;
	uint64_t spawns;
	uint64_t children_now;
	uint64_t children_peak;
	const char *allocator; /* "jemalloc" or "libc" */
	uint64_t allocations;  /* malloc family: blocks handed out */
	uint64_t frees;        /* blocks given back */
	uint64_t heap_allocated; /* usable bytes handed out */
	uint64_t heap_freed;   /* usable bytes given back */
	uint64_t heap_live;    /* live heap bytes at the dump */
	uint64_t heap_peak;    /* most live heap bytes at once */
	uint64_t mmaps, munmaps, mprotects;
	int policy;          /* 0: no policy loaded (observe only) */
	uint64_t rules;
	uint64_t decisions;
	uint64_t denied;
	uint64_t audited;
};

/* Parse "text", "json" or "prom"; -1 otherwise. */
int ward_stats_parse_format(const char *name);
const char *ward_stats_format_name(enum ward_stats_format format);
/* File name extension for a format: "txt", "json", "prom". */
const char *ward_stats_format_ext(enum ward_stats_format format);

/* Render; returns the full length (may exceed cap: output was cut). */
size_t ward_stats_render(struct ward_stats *stats, enum ward_stats_format format,
                         char *buf, size_t cap);

#endif
