/*
 * limits.c: refusals that are not a rule's: `limit children`, `limit fds`,
 * `limit memory`, `memory wx deny`, and execs the shim cannot follow
 * (`unconfined-exec`).  Each fails the call with the errno the kernel or
 * libc gives at a real limit (EAGAIN, EMFILE, ENOMEM; EACCES for W^X and
 * unconfined execs) and writes the same record as a rule's denial, with op
 * naming the limit.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "shim.h"
#include "../core/children.h"
#include "../core/fdtable.h"

uint64_t ward_fd_limit; /* limit fds, 0: none */

/* A refusal with its record, written from the thread's scratch. */
static int
refuse(struct ward_frame *f, const struct ward_refusal *why)
{
	struct ward_scratch *s = ward_scratch_enter();
	int r = ward_refuse(f, s, why);
	if (s != NULL)
		ward_scratch_leave();
	return r;
}

/* A limit reached: "limit NAME N", failing with err. */
static int
refuse_limit(struct ward_frame *f, const char *name, uint64_t limit, int err)
{
	char what[24], by[64];
	snprintf(what, sizeof(what), "%llu", (unsigned long long)limit);
	snprintf(by, sizeof(by), "limit %s %s", name, what);
	struct ward_refusal why = { .op = name, .what = what, .by = by, .rule = by, .err = err };
	return refuse(f, &why);
}

bool
ward_strict(void)
{
	const char *env = ward_env("WARD_STRICT"); /* ward run --strict: the kernel holds what runs (SPEC 5.6) */
	return env != NULL && strcmp(env, "1") == 0;
}

/* Under --strict an unconfined exec that goes on is held by the kernel
 * alone: no record of what it is refused can be had, so the launcher's
 * records get a note and the summary counts such processes. */
static void
note_kernel_confined(struct ward_frame *f, const char *path, const char *why_text)
{
	char rule[160];
	snprintf(rule, sizeof(rule), "unconfined-exec (%s; kernel-confined)", why_text);
	struct ward_scratch *s = ward_scratch_enter();
	if (s == NULL)
		return;
	/* one name for the program, whatever the directory it was run from */
	if (path[0] != '/' && ward_syscall(SYS_getcwd, s->walk_path, sizeof(s->walk_path)) > 0 &&
	    strlen(s->walk_path) + strlen(path) + 2 <= sizeof(s->walk_path)) {
		strcat(s->walk_path, "/");
		strcat(s->walk_path, path[0] == '.' && path[1] == '/' ? path + 2 : path);
		path = s->walk_path;
	}
	ward_record_note(f, s, "kernel-confined", "exec", path, rule);
	ward_scratch_leave();
}

/* Exec of a program the shim cannot follow (static, set-user-ID, file
 * capabilities): refused, audited or allowed by unconfined-exec. */
int
ward_refuse_unconfined(struct ward_frame *f, const char *path, const char *why_text)
{
	const struct ward_policy *p = ward_config.policy;
	bool strict = ward_strict();
	if (p == NULL || p->unconfined_exec == WARD_UNCONFINED_ALLOW) {
		if (p != NULL && strict)
			note_kernel_confined(f, path, why_text);
		return 0;
	}
	bool audit = p->unconfined_exec == WARD_UNCONFINED_AUDIT;
	const char *held = audit && strict ? "; kernel-confined" : "";
	char by[160], rule[160];
	snprintf(by, sizeof(by), "unconfined-exec %s (%s%s)", audit || ward_config.mode == WARD_MODE_AUDIT ? "audit" : "deny",
	         why_text, held);
	snprintf(rule, sizeof(rule), "unconfined-exec (%s%s)", why_text, held);
	struct ward_refusal why = { .op = "exec", .what = path, .by = by, .rule = rule, .audit = audit, .err = EACCES };
	int r = refuse(f, &why);
	if (r == 0 && strict) /* audited: it runs */
		note_kernel_confined(f, path, why_text);
	return r;
}

bool
ward_limits_watch_unconfined(void)
{
	return ward_config.policy != NULL && (ward_config.policy->unconfined_exec != WARD_UNCONFINED_ALLOW || ward_strict());
}

/* Is pid no longer a child of ours (reaped without a wait we saw)? */
static bool
child_gone(pid_t pid)
{
	siginfo_t info;
	int saved = errno;
	bool gone = ward_syscall(SYS_waitid, P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT, NULL) < 0 && errno == ECHILD;
	errno = saved;
	return gone;
}

int
ward_check_children(struct ward_frame *f)
{
	const struct ward_policy *p = ward_config.policy;
	if (p == NULL || p->limit_children == 0 || !f->active || ward_children_live() < p->limit_children)
		return 0;
	ward_children_prune(child_gone);
	if (ward_children_live() < p->limit_children)
		return 0;
	return refuse_limit(f, "children", p->limit_children, EAGAIN);
}

/* limit fds: room for needed more descriptors, or EMFILE (recorded) as at
 * the kernel's own limit.  Threads opening at the same moment can pass the
 * limit by at most one descriptor each. */
int
ward_check_fds(struct ward_frame *f, int needed)
{
	if (!f->active || needed <= 0 || ward_fdtable_open_now() + (uint64_t)needed <= ward_fd_limit)
		return 0;
	return refuse_limit(f, "fds", ward_fd_limit, EMFILE);
}

/* limit fds counts every open descriptor, inherited ones included: learn
 * them all once (only with that directive). */
void
ward_limits_init(void)
{
	if (ward_config.policy == NULL || ward_config.policy->limit_fds == 0)
		return;
	static char buf[4096];
	long dir = ward_syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir >= 0) {
		long n;
		while ((n = ward_syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
			for (long off = 0; off < n;) {
				struct dirent64 *d = (struct dirent64 *)(buf + off);
				char *end;
				long fd = strtol(d->d_name, &end, 10);
				if (d->d_name[0] != '.' && *end == '\0' && fd != dir && !ward_fdtable_tracked((int)fd))
					ward_fdtable_set((int)fd, WARD_FD_INHERITED, 0);
				off += d->d_reclen;
			}
		}
		ward_syscall(SYS_close, dir);
	}
	ward_fd_limit = ward_config.policy->limit_fds;
}

/* limit memory: the allocation that would pass the limit is refused like
 * any other call (ward_frame_refuse: counted as failed and denied, errno
 * ENOMEM), and only the first refusal writes a record (record). */
int
ward_refuse_memory(enum ward_call_id id, uint64_t limit, bool record)
{
	struct ward_frame f;
	ward_frame_enter(&f, id);
	if (record)
		f.deny = refuse_limit(&f, "memory", limit, ENOMEM);
	else
		f.deny = ward_config.mode == WARD_MODE_AUDIT ? 0 : ENOMEM;
	if (f.deny != 0)
		ward_frame_refuse(&f);
	else
		errno = f.saved_errno;
	return f.deny;
}

bool
ward_limits_wx_deny(void)
{
	return ward_config.policy != NULL && ward_config.policy->memory_wx_deny;
}

/* memory wx deny: a program (or a library to dlopen) whose PT_GNU_STACK
 * asks for an executable stack would get stacks both writable and
 * executable from the kernel or the loader, where no mprotect wrapper
 * sees it: refused like the mapping. */
int
ward_check_exec_stack(struct ward_frame *f, const char *path)
{
	if (!ward_limits_wx_deny() || !f->active)
		return 0;
	struct ward_refusal why = { .op = "memory", .what = path, .by = "memory wx deny (an executable stack: PT_GNU_STACK)",
		                    .rule = "memory wx deny", .err = EACCES };
	return refuse(f, &why);
}

/* memory wx deny: a mapping or protection both writable and executable is
 * refused with EACCES (and recorded), as SPEC 5.3 says. */
int
ward_check_wx(struct ward_frame *f, int prot)
{
	(void)prot; /* the wrapper only asks when prot has both bits */
	if (ward_config.policy == NULL || !ward_config.policy->memory_wx_deny || !f->active)
		return 0;
	struct ward_refusal why = { .op = "memory", .what = "PROT_WRITE|PROT_EXEC", .by = "memory wx deny",
		                    .rule = "memory wx deny", .err = EACCES };
	return refuse(f, &why);
}
