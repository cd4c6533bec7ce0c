/*
 * records.c: violation records, and what a refusal does to the call.
 *
 * A record is formatted in the thread's scratch (never on the caller's
 * stack) and written with one write: a human line on stderr, or a JSON
 * line appended to WARD_LOG; under `ward run` a JSON copy of every record
 * (quiet denials included, marked) is appended to WARD_RECORDS too, so the
 * launcher sees what a build hid by capturing stderr.  Names are escaped
 * (core/json.h): a JSON record is one valid line whatever the path holds,
 * and a human one cannot be split or forged by a newline in a name.
 *
 * libunwind is loaded only when backtraces are asked for (its archive is
 * not PIC, and most processes never need it), and primed once at start-up:
 * its first call opens a pipe and reads through the shim's own wrappers.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "shim.h"
#include "../core/cwd.h"
#include "../core/json.h"

static int (*backtrace_fn)(void **frames, int size); /* libunwind's, when asked for */

void
ward_records_init(void)
{
	if (!ward_config.backtrace)
		return;
	void *lib = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
	backtrace_fn = lib ? (int (*)(void **, int))dlsym(lib, "unw_backtrace") : NULL;
	if (backtrace_fn == NULL) {
		ward_say("WARD_BACKTRACE: cannot load libunwind.so.8 (install libunwind8)");
		ward_syscall(SYS_exit_group, 125);
	}
	void *frames[4];
	backtrace_fn(frames, 4);
}

/* ---- formatting into the scratch record ---- */

struct line {
	char *buf;
	size_t len, cap;
};

static void
add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
add(struct line *l, const char *fmt, ...)
{
	if (l->len + 1 >= l->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(l->buf + l->len, l->cap - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < l->cap - l->len ? (size_t)n : l->cap - l->len - 1;
}

/* s escaped (JSON rules: also what keeps a human line one line), leaving
 * reserve bytes of room for what follows. */
static void
add_escaped(struct line *l, const char *s, size_t reserve)
{
	if (l->len + reserve + 1 >= l->cap)
		return;
	l->len += ward_json_escape(l->buf + l->len, l->cap - l->len - reserve, s);
}

/* "symbol+0xoffset" for each caller frame outside libward.so. */
static void
add_backtrace(struct line *l, struct ward_scratch *s, bool json)
{
	Dl_info self, info;
	int count = backtrace_fn(s->frames, WARD_BACKTRACE_FRAMES);
	dladdr((void *)add_backtrace, &self);
	bool first = true;
	for (int i = 0; i < count && l->len + 160 < l->cap; i++) {
		if (!dladdr(s->frames[i], &info) || info.dli_fbase == self.dli_fbase)
			continue;
		const char *name = info.dli_sname;
		if (name == NULL && info.dli_fname != NULL && info.dli_fname[0] != '\0') {
			name = strrchr(info.dli_fname, '/');
			name = name ? name + 1 : info.dli_fname;
		}
		if (name == NULL)
			name = ward_config.exe; /* the main program names itself "" */
		void *base = info.dli_sname ? info.dli_saddr : info.dli_fbase;
		add(l, "%s", first ? "" : json ? "," : " < ");
		if (json)
			add(l, "\"");
		add_escaped(l, name, 64);
		add(l, "+0x%lx%s", (unsigned long)((char *)s->frames[i] - (char *)base), json ? "\"" : "");
		first = false;
	}
}

/* The call a record names: the table's function, or under --strict the
 * system call a program made outside libc (rawsys.c), marked as such. */
#define RAW_SYSCALL "raw syscall"

static const char *
call_name(const struct ward_record *r, const char **raw)
{
	const char *name = ward_rawsys_call_name();
	*raw = name;
	return name != NULL ? name : ward_call_name(r->call);
}

static size_t
human(struct ward_scratch *s, const struct ward_record *r)
{
	struct line l = { s->record, 0, sizeof(s->record) - 1 };
	const char *raw;
	const char *call = call_name(r, &raw);
	add(&l, "ward: %s %s ", r->decision, r->op);
	add_escaped(&l, r->path, 256);
	add(&l, " (%s%s) by ", call, raw != NULL ? ", " RAW_SYSCALL " outside libc" : "");
	add_escaped(&l, r->by, 128);
	add(&l, " [pid %ld ", (long)r->pid);
	add_escaped(&l, ward_config.exe, 8);
	add(&l, "]");
	if (backtrace_fn != NULL) {
		add(&l, " at ");
		add_backtrace(&l, s, false);
	}
	l.buf[l.len++] = '\n';
	return l.len;
}

static size_t
json(struct ward_scratch *s, const struct ward_record *r, bool with_quiet)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct line l = { s->record, 0, sizeof(s->record) - 1 };
	add(&l, "{\"time\":%lld.%06ld,\"pid\":%ld,\"ppid\":%ld,\"exe\":\"", (long long)now.tv_sec, now.tv_nsec / 1000,
	    (long)r->pid, ward_syscall(SYS_getppid));
	add_escaped(&l, ward_config.exe, 1024);
	add(&l, "\",\"cwd\":\"");
	if (ward_in_vfork || !ward_cwd_copy(s->record_cwd, sizeof(s->record_cwd)))
		if (ward_syscall(SYS_getcwd, s->record_cwd, sizeof(s->record_cwd)) <= 0)
			s->record_cwd[0] = '\0';
	add_escaped(&l, s->record_cwd, 1024);
	const char *raw;
	const char *call = call_name(r, &raw);
	add(&l, "\",\"call\":\"%s\",", call);
	if (raw != NULL)
		add(&l, "\"via\":\"" RAW_SYSCALL "\",");
	add(&l, "\"op\":\"%s\",\"path\":\"", r->op);
	add_escaped(&l, r->path, 512);
	add(&l, "\",\"decision\":\"%s\",\"rule\":\"", r->decision);
	add_escaped(&l, r->rule, 256);
	add(&l, "\"");
	if (with_quiet)
		add(&l, ",\"quiet\":%s", r->quiet ? "true" : "false");
	if (backtrace_fn != NULL) {
		add(&l, ",\"backtrace\":[");
		add_backtrace(&l, s, true);
		add(&l, "]");
	}
	add(&l, "}");
	l.buf[l.len++] = '\n';
	return l.len;
}

/* An access() probe the policy answered no: not a violation (nothing was
 * attempted), so nothing on stderr or WARD_LOG; the launcher's copy says
 * it, so a program that gives up after its probe (make's PATH search) does
 * not fail with no word from ward. */
void
ward_record_probe(struct ward_frame *f, struct ward_scratch *s, const char *op, const char *path,
                  const char *rule)
{
	if (ward_config.records_path[0] == '\0')
		return;
	struct ward_record r = { .decision = "probed", .op = op, .path = path, .call = f->id, .by = rule,
		                 .rule = rule, .pid = (pid_t)ward_syscall(SYS_getpid) };
	ward_write_log(s->record, json(s, &r, true), ward_config.records_path);
}

void
ward_record_note(struct ward_frame *f, struct ward_scratch *s, const char *decision, const char *op,
                 const char *path, const char *rule)
{
	if (ward_config.records_path[0] == '\0')
		return;
	struct ward_record r = { .decision = decision, .op = op, .path = path, .call = f->id, .by = rule,
		                 .rule = rule, .pid = (pid_t)ward_syscall(SYS_getpid) };
	ward_write_log(s->record, json(s, &r, true), ward_config.records_path);
}

void
ward_record_write(struct ward_scratch *s, const struct ward_record *r)
{
	if (!r->quiet) {
		if (ward_config.log_to_file)
			ward_write_log(s->record, json(s, r, false), ward_config.log_path);
		else
			ward_write_log(s->record, human(s, r), NULL);
	}
	if (ward_config.records_path[0] != '\0')
		ward_write_log(s->record, json(s, r, true), ward_config.records_path);
}

/* ---- what a refusal does ---- */

static const char *const decision_names[] = { "denied", "audited", "killed" };

/* What a refusal does to the call: fail it with err (enforce), let it go
 * (audit: 0), or end the process (kill: the dump, then SIGKILL). */
static int
consequence(bool audit, int err)
{
	if (audit || ward_config.mode == WARD_MODE_AUDIT)
		return 0;
	if (ward_config.mode == WARD_MODE_KILL)
		ward_dump_and_kill();
	return err;
}

int
ward_refuse(struct ward_frame *f, struct ward_scratch *s, const struct ward_refusal *why)
{
	(void)f;
	bool audit = why->audit || ward_config.mode == WARD_MODE_AUDIT;
	struct ward_record r = {
		.decision = audit ? "audited" : decision_names[ward_config.mode],
		.op = why->op,
		.path = why->what,
		.call = f->id,
		.by = why->by,
		.rule = why->rule,
		.quiet = why->quiet,
		.pid = (pid_t)ward_syscall(SYS_getpid),
	};
	if (s != NULL)
		ward_record_write(s, &r);
	return consequence(audit, why->err);
}
