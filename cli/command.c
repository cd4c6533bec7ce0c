/*
 * command.c: the top command of `ward run` is confined like every exec
 * (SPEC 4).
 *
 * Before CMD starts, the launcher decides its exec exactly as the shim
 * decides every exec inside the tree: what execvp would start (core/program:
 * the PATH candidate glibc would really run, every #! level), each file
 * decided for `exec` on the path it resolves to (core/resolve, the pipeline
 * of the shim and of `ward explain`), then `unconfined-exec` for a program
 * the loader would start without the shim.  A refusal is a violation record
 * like the shim's (a human line on stderr or a JSON line in WARD_LOG, and
 * a JSON line in the tree's records file, so it is in the summary), and
 * CMD never runs: 126.  Audit mode records and runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "match.h"
#include "program.h"
#include "resolve.h"

struct refusal {
	const char *decision;   /* denied, audited, killed */
	const char *path;
	bool quiet;             /* deny quiet: only in the records file, marked */
	char rule[PATH_MAX + 32];   /* for JSON: FILE:LINE, default, unconfined-exec (...) */
	char by[PATH_MAX + 64];     /* for the human line */
};

static void
append_line(const char *path, const char *line, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0644);
	if (fd < 0) {
		fprintf(stderr, "ward: cannot append a violation record to %s: %s\n", path, strerror(errno));
		return;
	}
	if (write(fd, line, len) != (ssize_t)len)
		fprintf(stderr, "ward: cannot append a violation record to %s: %s\n", path, strerror(errno));
	close(fd);
}

/* The shim's JSON record (shim/records.c), made by ward itself. */
static size_t
json_record(char *out, size_t cap, const struct refusal *r, bool with_quiet)
{
	static char path[4 * PATH_MAX], rule[4 * PATH_MAX], cwd[PATH_MAX], cwd_escaped[4 * PATH_MAX];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		cwd[0] = '\0';
	ward_json_escape(path, sizeof(path), r->path);
	ward_json_escape(rule, sizeof(rule), r->rule);
	ward_json_escape(cwd_escaped, sizeof(cwd_escaped), cwd);
	int n = snprintf(out, cap,
	                 "{\"time\":%lld.%06ld,\"pid\":%ld,\"ppid\":%ld,\"exe\":\"ward\",\"cwd\":\"%s\",\"call\":\"execvp\","
	                 "\"op\":\"exec\",\"path\":\"%s\",\"decision\":\"%s\",\"rule\":\"%s\"%s}\n",
	                 (long long)now.tv_sec, now.tv_nsec / 1000, (long)getpid(), (long)getppid(), cwd_escaped, path,
	                 r->decision, rule, with_quiet ? r->quiet ? ",\"quiet\":true" : ",\"quiet\":false" : "");
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

static void
record(const struct refusal *r, const char *records_path)
{
	static char line[16 * PATH_MAX];
	const char *log = getenv("WARD_LOG");
	if (r->quiet) {
		/* counted in the summary, never shown */
	} else if (log != NULL && log[0] != '\0' && strcmp(log, "stderr") != 0) {
		append_line(log, line, json_record(line, sizeof(line), r, false));
	} else {
		static char path[4 * PATH_MAX];
		ward_json_escape(path, sizeof(path), r->path); /* one line, whatever the name holds */
		fprintf(stderr, "ward: %s exec %s (execvp) by %s [pid %ld ward]\n", r->decision, path, r->by,
		        (long)getpid());
	}
	if (records_path != NULL && records_path[0] != '\0')
		append_line(records_path, line, json_record(line, sizeof(line), r, true));
}

static enum ward_mode
tree_mode(const struct ward_policy *policy)
{
	const char *mode = getenv("WARD_MODE");
	if (mode != NULL && strcmp(mode, "audit") == 0)
		return WARD_MODE_AUDIT;
	if (mode != NULL && strcmp(mode, "enforce") == 0)
		return WARD_MODE_ENFORCE;
	return policy->mode;
}

static const char *const decision_names[] = { "denied", "audited", "killed" };

/* Every level decided for exec: false with r filled at the first refused. */
static char resolved[WARD_NAME_MAX];
static struct ward_resolve_scratch scratch;
static const struct ward_resolve_options options = { .use_cwd_cache = false };

static bool
levels_allowed(const struct ward_policy *policy, const struct ward_matcher *matcher, const struct ward_program *p,
               struct refusal *r)
{
	for (unsigned int i = 0; i < p->levels; i++) {
		int at;
		const char *path = ward_program_level(p, i, &at);
		int res = ward_resolve(&options, at, path, true, resolved, &scratch);
		if (res == WARD_RESOLVE_FAILS)
			return true; /* the exec fails by itself */
		if (res == WARD_RESOLVE_UNKNOWN) {
			r->path = path;
			snprintf(r->rule, sizeof(r->rule), "default");
			snprintf(r->by, sizeof(r->by), "ward (the path cannot be resolved)");
			return false;
		}
		struct ward_decision d = ward_matcher_decide(matcher, WARD_OP_EXEC, resolved);
		if (d.allow)
			continue;
		r->path = resolved;
		if (d.rule >= 0) {
			snprintf(r->rule, sizeof(r->rule), "%s:%d", policy->rule[d.rule].file, policy->rule[d.rule].line);
			snprintf(r->by, sizeof(r->by), "rule %s", r->rule);
		} else {
			snprintf(r->rule, sizeof(r->rule), "default");
			snprintf(r->by, sizeof(r->by), "default deny");
		}
		r->quiet = d.quiet;
		return false;
	}
	return true;
}

int
launch_decide_command(const struct ward_policy *policy, const struct ward_matcher *matcher, char *const argv[],
                      const char *records_path)
{
	static char candidate[WARD_PATH_MAX];
	static struct ward_program program;
	if (policy == NULL || matcher == NULL)
		return 0;
	if (ward_program_search(argv[0], getenv("PATH"), true, candidate, sizeof(candidate), &program) == NULL)
		return 0; /* nothing would start: execvp says why (126, 127) */
	struct refusal r = { 0 };
	enum ward_mode mode = tree_mode(policy);
	bool audit = mode == WARD_MODE_AUDIT;
	bool allowed = levels_allowed(policy, matcher, &program, &r);
	if (allowed && program.exec_stack && policy->memory_wx_deny) {
		/* the kernel would map its stack writable and executable */
		int at;
		r.path = ward_program_level(&program, program.levels - 1, &at);
		if (ward_resolve(&options, at, r.path, true, resolved, &scratch) == 0)
			r.path = resolved;
		snprintf(r.rule, sizeof(r.rule), "memory wx deny");
		snprintf(r.by, sizeof(r.by), "memory wx deny (an executable stack: PT_GNU_STACK)");
		allowed = false;
	}
	if (allowed) {
		if (program.unconfined == NULL)
			return 0;
		/* under --strict what runs is held by the kernel: said as the shim says it */
		const char *strict_env = getenv("WARD_STRICT");
		bool strict = strict_env != NULL && strcmp(strict_env, "1") == 0;
		int at;
		r.path = ward_program_level(&program, program.unconfined_level, &at);
		if (ward_resolve(&options, at, r.path, true, resolved, &scratch) == 0)
			r.path = resolved;
		if (strict && (policy->unconfined_exec != WARD_UNCONFINED_DENY || audit)) {
			/* it will run, held by the kernel alone: a note for the summary's count */
			static struct refusal note;
			static char line[16 * PATH_MAX];
			note = r;
			note.decision = "kernel-confined";
			snprintf(note.rule, sizeof(note.rule), "unconfined-exec (%s; kernel-confined)", program.unconfined);
			if (records_path != NULL && records_path[0] != '\0') /* the records file only */
				append_line(records_path, line, json_record(line, sizeof(line), &note, false));
		}
		if (policy->unconfined_exec == WARD_UNCONFINED_ALLOW)
			return 0;
		audit |= policy->unconfined_exec == WARD_UNCONFINED_AUDIT;
		const char *held = policy->unconfined_exec == WARD_UNCONFINED_AUDIT && strict ? "; kernel-confined" : "";
		snprintf(r.rule, sizeof(r.rule), "unconfined-exec (%s%s)", program.unconfined, held);
		snprintf(r.by, sizeof(r.by), "unconfined-exec %s (%s%s)", audit ? "audit" : "deny", program.unconfined, held);
	}
	r.decision = audit ? "audited" : decision_names[mode];
	record(&r, records_path);
	if (audit)
		return 0;
	fprintf(stderr, "ward: %s: refused by the policy; not started\n", argv[0]);
	return EXIT_NOT_RUNNABLE;
}
