/*
 * stats: text (strace -c style), JSON lines and Prometheus text renderers.
 */
#include "stats.h"
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct out {
	char *buf;
	size_t cap;
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* A name as a JSON string or a Prometheus label value (core/json.h). */
static void
put_escaped(struct out *o, const char *s, int prom)
{
	static char escaped[6 * 256 + 1]; /* the dump runs once per image */
	(prom ? ward_prom_escape : ward_json_escape)(escaped, sizeof(escaped), s);
	put(o, "%s", escaped);
}

int
ward_stats_parse_format(const char *name)
{
	if (strcmp(name, "text") == 0)
		return WARD_FORMAT_TEXT;
	if (strcmp(name, "json") == 0)
		return WARD_FORMAT_JSON;
	if (strcmp(name, "prom") == 0)
		return WARD_FORMAT_PROM;
	return -1;
}

const char *
ward_stats_format_name(enum ward_stats_format format)
{
	static const char *const names[] = { "text", "json", "prom" };
	return names[format];
}

const char *
ward_stats_format_ext(enum ward_stats_format format)
{
	static const char *const ext[] = { "txt", "json", "prom" };
	return ext[format];
}

/* Most calls first, then by name: insertion sort, the list is short. */
static void
sort_by_calls(struct ward_stats_call *c, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct ward_stats_call key = c[i];
		size_t j = i;
		while (j > 0 && (c[j - 1].calls < key.calls ||
		                 (c[j - 1].calls == key.calls && strcmp(c[j - 1].name, key.name) > 0))) {
			c[j] = c[j - 1];
			j--;
		}
		c[j] = key;
	}
}

static void
render_text(struct ward_stats *s, struct out *o)
{
	uint64_t calls = 0, errors = 0, denied = 0;
	sort_by_calls(s->call, s->ncalls);
	put(o, "ward: pid %ld (%s), at %s\n", s->pid, s->exe, s->reason);
	put(o, "%12s %10s %10s  %s\n", "calls", "errors", "denied", "function");
	put(o, "------------ ---------- ----------  ----------------\n");
	for (size_t i = 0; i < s->ncalls; i++) {
		const struct ward_stats_call *c = &s->call[i];
		if (c->calls == 0)
			continue;
		put(o, "%12llu %10llu %10llu  %s\n", (unsigned long long)c->calls,
		    (unsigned long long)c->errors, (unsigned long long)c->denied, c->name);
		calls += c->calls;
		errors += c->errors;
		denied += c->denied;
	}
	put(o, "------------ ---------- ----------  ----------------\n");
	put(o, "%12llu %10llu %10llu  total\n", (unsigned long long)calls,
	    (unsigned long long)errors, (unsigned long long)denied);
	put(o, "files: %llu opened, %llu closed, %llu open now, %llu most open at once, "
	       "%llu bytes read, %llu bytes written\n",
	    (unsigned long long)s->files_opened, (unsigned long long)s->files_closed,
	    (unsigned long long)s->files_open_now, (unsigned long long)s->files_open_peak,
	    (unsigned long long)s->bytes_read, (unsigned long long)s->bytes_written);
	if (s->forks || s->execs || s->spawns || s->children_peak)
		put(o, "processes: %llu forks, %llu execs, %llu spawns, %llu live children, %llu most at once\n",
		    (unsigned long long)s->forks, (unsigned long long)s->execs, (unsigned long long)s->spawns,
		    (unsigned long long)s->children_now, (unsigned long long)s->children_peak);
	put(o, "memory (%s): %llu allocations, %llu frees, %llu bytes allocated, %llu live, %llu peak; "
	       "%llu mmap, %llu munmap, %llu mprotect\n",
	    s->allocator ? s->allocator : "?", (unsigned long long)s->allocations, (unsigned long long)s->frees,
	    (unsigned long long)s->heap_allocated, (unsigned long long)s->heap_live,
	    (unsigned long long)s->heap_peak, (unsigned long long)s->mmaps, (unsigned long long)s->munmaps,
	    (unsigned long long)s->mprotects);
	if (s->policy)
		put(o, "policy: %llu rules, %llu decisions, %llu denied, %llu audited\n",
		    (unsigned long long)s->rules, (unsigned long long)s->decisions,
		    (unsigned long long)s->denied, (unsigned long long)s->audited);
}

static void
render_json(struct ward_stats *s, struct out *o)
{
	put(o, "{\"ward_stats_version\":1,\"pid\":%ld,\"exe\":\"", s->pid);
	put_escaped(o, s->exe, 0);
	put(o, "\",\"reason\":\"%s\",\"calls\":{", s->reason);
	const char *sep = "";
	for (size_t i = 0; i < s->ncalls; i++) {
		const struct ward_stats_call *c = &s->call[i];
		if (c->calls == 0)
			continue;
		put(o, "%s\"%s\":{\"calls\":%llu,\"errors\":%llu,\"denied\":%llu}", sep, c->name,
		    (unsigned long long)c->calls, (unsigned long long)c->errors,
		    (unsigned long long)c->denied);
		sep = ",";
	}
	put(o, "},\"files\":{\"opened\":%llu,\"closed\":%llu,\"open_now\":%llu,"
	       "\"open_peak\":%llu,\"bytes_read\":%llu,\"bytes_written\":%llu}",
	    (unsigned long long)s->files_opened, (unsigned long long)s->files_closed,
	    (unsigned long long)s->files_open_now, (unsigned long long)s->files_open_peak,
	    (unsigned long long)s->bytes_read, (unsigned long long)s->bytes_written);
	put(o, ",\"processes\":{\"forks\":%llu,\"execs\":%llu,\"spawns\":%llu,\"children_now\":%llu,"
	       "\"children_peak\":%llu}",
	    (unsigned long long)s->forks, (unsigned long long)s->execs, (unsigned long long)s->spawns,
	    (unsigned long long)s->children_now, (unsigned long long)s->children_peak);
	put(o, ",\"memory\":{\"allocator\":\"%s\",\"allocations\":%llu,\"frees\":%llu,\"bytes_allocated\":%llu,"
	       "\"bytes_freed\":%llu,\"live_bytes\":%llu,\"peak_bytes\":%llu,\"mmaps\":%llu,\"munmaps\":%llu,"
	       "\"mprotects\":%llu}",
	    s->allocator ? s->allocator : "?", (unsigned long long)s->allocations, (unsigned long long)s->frees,
	    (unsigned long long)s->heap_allocated, (unsigned long long)s->heap_freed,
	    (unsigned long long)s->heap_live, (unsigned long long)s->heap_peak, (unsigned long long)s->mmaps,
	    (unsigned long long)s->munmaps, (unsigned long long)s->mprotects);
	put(o, ",\"policy\":{\"loaded\":%s,\"rules\":%llu,\"decisions\":%llu,\"denied\":%llu,"
	       "\"audited\":%llu}}\n",
	    s->policy ? "true" : "false", (unsigned long long)s->rules, (unsigned long long)s->decisions,
	    (unsigned long long)s->denied, (unsigned long long)s->audited);
}

static void
prom_labels(struct ward_stats *s, struct out *o)
{
	put(o, "pid=\"%ld\",exe=\"", s->pid);
	put_escaped(o, s->exe, 1);
	put(o, "\"");
}

static void
prom_family(struct ward_stats *s, struct out *o, const char *name, const char *type,
            const char *help, size_t field)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	for (size_t i = 0; i < s->ncalls; i++) {
		const struct ward_stats_call *c = &s->call[i];
		if (c->calls == 0)
			continue;
		uint64_t v = field == 0 ? c->calls : field == 1 ? c->errors : c->denied;
		put(o, "%s{call=\"%s\",", name, c->name);
		prom_labels(s, o);
		put(o, "} %llu\n", (unsigned long long)v);
	}
}

static void
prom_single(struct ward_stats *s, struct out *o, const char *name, const char *type,
            const char *help, uint64_t v)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n%s{", name, help, name, type, name);
	prom_labels(s, o);
	put(o, "} %llu\n", (unsigned long long)v);
}

/* Every figure of the JSON dump, one metric family each (docs/STATS.md has
 * the table): pid and exe label every sample, and the dump's two strings,
 * reason and allocator, are the labels of ward_process_info. */
static void
render_prom(struct ward_stats *s, struct out *o)
{
	put(o, "# HELP ward_process_info The dumped process image: why it was dumped, which allocator served it.\n"
	       "# TYPE ward_process_info gauge\nward_process_info{");
	prom_labels(s, o);
	put(o, ",reason=\"%s\",allocator=\"%s\"} 1\n", s->reason, s->allocator ? s->allocator : "?");
	prom_family(s, o, "ward_calls_total", "counter", "Intercepted calls by function.", 0);
	prom_family(s, o, "ward_errors_total", "counter", "Intercepted calls that failed.", 1);
	prom_family(s, o, "ward_denied_total", "counter", "Intercepted calls the policy denied.", 2);
	prom_single(s, o, "ward_files_opened_total", "counter", "File descriptors created.", s->files_opened);
	prom_single(s, o, "ward_files_closed_total", "counter", "File descriptors closed.", s->files_closed);
	prom_single(s, o, "ward_files_open", "gauge", "Tracked descriptors open at the dump.", s->files_open_now);
	prom_single(s, o, "ward_files_open_max", "gauge", "Most tracked descriptors open at once.", s->files_open_peak);
	prom_single(s, o, "ward_read_bytes_total", "counter", "Bytes read through intercepted calls.", s->bytes_read);
	prom_single(s, o, "ward_written_bytes_total", "counter", "Bytes written through intercepted calls.", s->bytes_written);
	prom_single(s, o, "ward_forks_total", "counter", "Children made by fork, vfork and _Fork.", s->forks);
	prom_single(s, o, "ward_execs_total", "counter", "Execs that replaced the image.", s->execs);
	prom_single(s, o, "ward_spawns_total", "counter", "Children made by posix_spawn, system and popen.", s->spawns);
	prom_single(s, o, "ward_children", "gauge", "Live children at the dump.", s->children_now);
	prom_single(s, o, "ward_children_max", "gauge", "Most live children at once.", s->children_peak);
	prom_single(s, o, "ward_allocations_total", "counter", "Blocks the malloc family handed out.", s->allocations);
	prom_single(s, o, "ward_frees_total", "counter", "Blocks given back to the allocator.", s->frees);
	prom_single(s, o, "ward_heap_allocated_bytes_total", "counter", "Usable bytes handed out.", s->heap_allocated);
	prom_single(s, o, "ward_heap_freed_bytes_total", "counter", "Usable bytes given back.", s->heap_freed);
	prom_single(s, o, "ward_heap_live_bytes", "gauge", "Live heap bytes at the dump.", s->heap_live);
	prom_single(s, o, "ward_heap_peak_bytes", "gauge", "Most live heap bytes at once.", s->heap_peak);
	prom_single(s, o, "ward_mmaps_total", "counter", "The program's mmap calls.", s->mmaps);
	prom_single(s, o, "ward_munmaps_total", "counter", "The program's munmap calls.", s->munmaps);
	prom_single(s, o, "ward_mprotects_total", "counter", "The program's mprotect calls.", s->mprotects);
	prom_single(s, o, "ward_policy_loaded", "gauge", "1 when a policy was loaded, 0 observing only.",
	            s->policy ? 1 : 0);
	prom_single(s, o, "ward_policy_rules", "gauge", "Rules in the loaded policy.", s->rules);
	prom_single(s, o, "ward_policy_decisions_total", "counter", "Policy decisions made.", s->decisions);
	prom_single(s, o, "ward_policy_denied_total", "counter", "Operations the policy refused.", s->denied);
	prom_single(s, o, "ward_policy_audited_total", "counter", "Operations let through in audit mode.", s->audited);
}

size_t
ward_stats_render(struct ward_stats *stats, enum ward_stats_format format, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };
	if (format == WARD_FORMAT_JSON)
		render_json(stats, &o);
	else if (format == WARD_FORMAT_PROM)
		render_prom(stats, &o);
	else
		render_text(stats, &o);
	if (cap)
		buf[o.len < cap ? o.len : cap - 1] = '\0';
	return o.len;
}
