/*
 * dump.c: the figures of this process image, written once.
 *
 * At normal exit, at _exit/_Exit, just before an exec that is expected to
 * succeed, and before kill mode ends the process.  Everything comes from
 * the counter slots (the heap's starting level included, so nothing here
 * asks the allocator), the FD table and the children table.  Destinations:
 * stderr or fd:N through the descriptor guard (output.c), a file opened
 * O_APPEND (%p, %e expanded), or one file per process in a directory.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "shim.h"
#include "../core/children.h"
#include "../core/fdtable.h"
#include "../core/stats.h"

static int dumped; /* this image's figures are out */

void
ward_dump_rearm(void)
{
	__atomic_store_n(&dumped, 0, __ATOMIC_RELEASE);
}

/* Live heap bytes: what the image started with, plus what it allocated,
 * minus what it freed. */
static uint64_t
heap_live(const uint64_t value[WARD_COUNTERS_MAX])
{
	int64_t live = (int64_t)value[WARD_IDX_HEAP_BASE] + (int64_t)value[WARD_IDX_HEAP_ALLOCATED] -
	               (int64_t)value[WARD_IDX_HEAP_FREED];
	return live > 0 ? (uint64_t)live : 0;
}

/* The most live bytes at once: the threads' peaks, and never less than
 * what the image started with or has now. */
static uint64_t
heap_peak(const uint64_t value[WARD_COUNTERS_MAX])
{
	uint64_t peak = value[WARD_IDX_HEAP_PEAK], live = heap_live(value), base = value[WARD_IDX_HEAP_BASE];
	if (base > peak)
		peak = base;
	return live > peak ? live : peak;
}

/* Expand %p, %e, %% of a WARD_STATS file name. */
static void
expand_path(char *out, size_t cap, pid_t pid)
{
	size_t len = 0;
	out[0] = '\0';
	for (const char *p = ward_config.stats_path; *p && len + 1 < cap; p++) {
		if (*p == '%' && (p[1] == 'p' || p[1] == 'e')) {
			if (p[1] == 'p')
				snprintf(out + len, cap - len, "%ld", (long)pid);
			else
				snprintf(out + len, cap - len, "%s", ward_config.exe);
			len = strlen(out);
			p++;
			continue;
		}
		if (*p == '%' && p[1] == '%')
			p++;
		out[len++] = *p;
		out[len] = '\0';
	}
}

static void
write_to_file(const char *buf, size_t len, pid_t pid)
{
	static char path[PATH_MAX + 300];
	if (ward_config.stats_kind == WARD_DEST_DIR) {
		ward_syscall(SYS_mkdir, ward_config.stats_path, 0755);
		snprintf(path, sizeof(path), "%s%s.%ld.%s", ward_config.stats_path, ward_config.exe, (long)pid,
		         ward_stats_format_ext(ward_config.stats_format));
	} else {
		expand_path(path, sizeof(path), pid);
	}
	long fd = ward_syscall(SYS_open, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0644);
	if (fd < 0) {
		ward_say3("cannot write stats to ", path, ": open failed");
		return;
	}
	ward_write_all((int)fd, buf, len);
	ward_syscall(SYS_close, fd);
}

void
ward_dump(const char *reason)
{
	static struct ward_stats_call calls[WARD_NCALLS];
	static uint64_t value[WARD_COUNTERS_MAX], copy[WARD_COUNTERS_MAX];
	static char text[256 * 1024];

	/* the heap bytes this thread has not folded yet, into its slot (the
	 * tree's record too, which is read with no dump), before the shim's
	 * own work below */
	ward_alloc_fold();
	if (ward_config.stats_kind == WARD_DEST_NONE || __atomic_exchange_n(&dumped, 1, __ATOMIC_ACQ_REL))
		return;
	int saved_errno = errno;
	ward_busy++;
	pid_t pid = (pid_t)ward_syscall(SYS_getpid);
	ward_counters_snapshot(value, copy);
	ward_layout_derive(value);
	for (int id = 0; id < WARD_NCALLS; id++) {
		calls[id].name = ward_call_name(id);
		calls[id].calls = value[WARD_IDX_CALLS(id)];
		calls[id].errors = value[WARD_IDX_ERRORS(id)];
		calls[id].denied = value[WARD_IDX_DENIED(id)];
	}
	struct ward_stats stats = {
		.pid = pid,
		.exe = ward_config.exe,
		.reason = reason,
		.call = calls,
		.ncalls = WARD_NCALLS,
		.files_opened = value[WARD_IDX_FILES_OPENED],
		.files_closed = value[WARD_IDX_FILES_CLOSED],
		.files_open_now = ward_fdtable_open_now(),
		.files_open_peak = ward_fdtable_open_peak(),
		.bytes_read = value[WARD_IDX_BYTES_READ],
		.bytes_written = value[WARD_IDX_BYTES_WRITTEN],
		.policy = ward_config.policy != NULL,
		.rules = ward_config.policy != NULL ? ward_config.policy->nrules : 0,
		.decisions = value[WARD_IDX_DECISIONS],
		.denied = value[WARD_IDX_POLICY_DENIED],
		.audited = value[WARD_IDX_AUDITED],
		.forks = value[WARD_IDX_FORKS],
		.execs = value[WARD_IDX_EXECS],
		.spawns = value[WARD_IDX_SPAWNS],
		.children_now = ward_children_live(),
		.children_peak = ward_children_peak(),
		.allocator = ward_config.allocator != NULL ? ward_config.allocator : "jemalloc",
		.allocations = value[WARD_IDX_ALLOCATIONS],
		.frees = value[WARD_IDX_FREES],
		.heap_allocated = value[WARD_IDX_HEAP_ALLOCATED],
		.heap_freed = value[WARD_IDX_HEAP_FREED],
		.heap_live = heap_live(value),
		.heap_peak = heap_peak(value),
		.mmaps = value[WARD_IDX_CALLS(WARD_ID_mmap)] + value[WARD_IDX_CALLS(WARD_ID_mmap64)],
		.munmaps = value[WARD_IDX_CALLS(WARD_ID_munmap)],
		.mprotects = value[WARD_IDX_CALLS(WARD_ID_mprotect)] + value[WARD_IDX_CALLS(WARD_ID_pkey_mprotect)],
	};
	size_t len = ward_stats_render(&stats, ward_config.stats_format, text, sizeof(text));
	if (len >= sizeof(text))
		len = sizeof(text) - 1;
	if (ward_config.stats_kind == WARD_DEST_FD) {
		int fd = ward_output_fd(ward_config.stats_fd);
		if (fd >= 0)
			ward_write_all(fd, text, len);
		else if (ward_config.stats_fd != 2)
			ward_say3("stats not written: the WARD_STATS descriptor is closed or no longer the one open at "
			          "start-up (", ward_config.exe, ")");
	} else {
		write_to_file(text, len, pid);
	}
	ward_busy--;
	errno = saved_errno;
}

/* kill mode: the figures out, then the process ends. */
__attribute__((noreturn)) void
ward_dump_and_kill(void)
{
	ward_dump("kill");
	ward_syscall(SYS_kill, ward_syscall(SYS_getpid), SIGKILL);
	for (;;)
		ward_syscall(SYS_exit_group, 128 + SIGKILL);
}
