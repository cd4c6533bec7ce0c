/*
 * report.c: merging process figures and printing them.  See report.h.
 */
#define _GNU_SOURCE
#include "report.h"
#include "json.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void
ward_report_init(struct ward_report *r, const struct ward_report_layout *layout)
{
	memset(r, 0, sizeof(*r));
	r->layout = layout;
	strcpy(r->total.exe, "total");
}

void
ward_report_free(struct ward_report *r)
{
	free(r->program);
	r->program = NULL;
	r->nprograms = r->cap = 0;
}

static struct ward_report_program *
program(struct ward_report *r, const char *exe)
{
	for (size_t i = 0; i < r->nprograms; i++)
		if (strncmp(r->program[i].exe, exe, sizeof(r->program[i].exe) - 1) == 0)
			return &r->program[i];
	if (r->nprograms == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct ward_report_program *p = realloc(r->program, cap * sizeof(*p));
		if (p == NULL)
			return NULL;
		r->program = p;
		r->cap = cap;
	}
	struct ward_report_program *p = &r->program[r->nprograms++];
	memset(p, 0, sizeof(*p));
	snprintf(p->exe, sizeof(p->exe), "%s", exe);
	return p;
}

static void
accumulate(struct ward_report_program *p, const uint64_t *value, bool finished)
{
	p->processes++;
	p->unfinished += !finished;
	ward_counters_combine(p->value, value);
}

void
ward_report_add(struct ward_report *r, const char *exe, const uint64_t value[WARD_COUNTERS_MAX], bool finished)
{
	struct ward_report_program *p = program(r, exe[0] ? exe : "?");
	if (p != NULL)
		accumulate(p, value, finished);
	accumulate(&r->total, value, finished);
}

/* ---- reading our own JSON dumps ---- */

static const char *
skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return s;
}

/* A JSON string as ward writes them (core/json.h: \u00XX for single
 * bytes), decoded into out. */
static const char *
read_string(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	if (*s != '"')
		return NULL;
	for (s++; *s && *s != '"'; s++) {
		char c = *s;
		if (*s == '\\' && s[1]) {
			s++;
			c = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s == 'r' ? '\r' : *s;
			unsigned int code;
			if (*s == 'u' && sscanf(s + 1, "%4x", &code) == 1 && strspn(s + 1, "0123456789abcdefABCDEF") >= 4) {
				c = code < 0x100 ? (char)code : '?';
				s += 4;
			}
		}
		if (n + 1 < cap)
			out[n++] = c;
	}
	out[n] = '\0';
	return *s == '"' ? s + 1 : NULL;
}

static const char *
read_number(const char *s, uint64_t *v)
{
	char *end;
	*v = strtoull(s, &end, 10);
	return end == s ? NULL : end;
}

static int
call_index(const struct ward_report_layout *l, const char *name)
{
	for (size_t i = 0; i < l->ncalls; i++)
		if (strcmp(l->names[i], name) == 0)
			return (int)i;
	return -1;
}

/* {"key":number,...} into value[] through a key -> index function. */
static const char *
read_flat(const char *s, const struct ward_report_layout *l, uint64_t *value,
          int (*index_of)(const struct ward_report_layout *, const char *, int), int base)
{
	char key[64];
	s = skip_ws(s);
	if (*s++ != '{')
		return NULL;
	for (s = skip_ws(s); *s && *s != '}';) {
		uint64_t v;
		if ((s = read_string(s, key, sizeof(key))) == NULL)
			return NULL;
		s = skip_ws(s);
		if (*s++ != ':')
			return NULL;
		s = skip_ws(s);
		if (*s == 't' || *s == 'f') { /* "loaded":true */
			s += *s == 't' ? 4 : 5;
		} else if (*s == '"') { /* "allocator":"jemalloc" */
			char text[64];
			if ((s = read_string(s, text, sizeof(text))) == NULL)
				return NULL;
		} else {
			if ((s = read_number(s, &v)) == NULL)
				return NULL;
			int i = index_of(l, key, base);
			if (i >= 0 && (unsigned int)i >= WARD_COUNTER_LEVEL(0))
				value[i] = v > value[i] ? v : value[i];
			else if (i >= 0)
				value[i] += v;
		}
		s = skip_ws(s);
		if (*s == ',')
			s = skip_ws(s + 1);
	}
	return *s == '}' ? s + 1 : NULL;
}

static int
per_call_index(const struct ward_report_layout *l, const char *key, int base)
{
	(void)l;
	return strcmp(key, "calls") == 0 ? base : strcmp(key, "errors") == 0 ? base + 1
	                                         : strcmp(key, "denied") == 0 ? base + 2 : -1;
}

static int
files_index(const struct ward_report_layout *l, const char *key, int base)
{
	(void)base;
	return strcmp(key, "opened") == 0 ? (int)l->files_opened
	       : strcmp(key, "closed") == 0 ? (int)l->files_closed
	       : strcmp(key, "bytes_read") == 0 ? (int)l->bytes_read
	       : strcmp(key, "bytes_written") == 0 ? (int)l->bytes_written : -1;
}

static int
processes_index(const struct ward_report_layout *l, const char *key, int base)
{
	(void)base;
	return strcmp(key, "forks") == 0 ? (int)l->forks
	       : strcmp(key, "execs") == 0 ? (int)l->execs
	       : strcmp(key, "spawns") == 0 ? (int)l->spawns : -1;
}

static int
memory_index(const struct ward_report_layout *l, const char *key, int base)
{
	(void)base;
	return strcmp(key, "allocations") == 0 ? (int)l->allocations
	       : strcmp(key, "frees") == 0 ? (int)l->frees
	       : strcmp(key, "bytes_allocated") == 0 ? (int)l->heap_allocated
	       : strcmp(key, "bytes_freed") == 0 ? (int)l->heap_freed
	       : strcmp(key, "peak_bytes") == 0 ? (int)l->heap_peak : -1;
}

static int
policy_index(const struct ward_report_layout *l, const char *key, int base)
{
	(void)base;
	return strcmp(key, "decisions") == 0 ? (int)l->decisions
	       : strcmp(key, "denied") == 0 ? (int)l->policy_denied
	       : strcmp(key, "audited") == 0 ? (int)l->audited : -1;
}

/* One group of figures: a dump's top level, or a group of a tree report
 * ("total", or one program of "programs").  Numbers and strings that are
 * not figures go to the caller through *processes, *unfinished, exe and
 * *version; unknown keys are skipped, so later versions still read. */
struct group_fields {
	uint64_t processes, unfinished;
	bool has_processes;
	char exe[64];
	uint64_t stats_version, report_version, unrecorded;
	const char *programs; /* a tree report: where its "programs" object starts */
};

static const char *skip_value(const char *s);

static const char *
skip_object(const char *s, char open, char close)
{
	char key[64];
	if (*s++ != open)
		return NULL;
	for (s = skip_ws(s); *s && *s != close;) {
		if (open == '{') {
			if ((s = read_string(s, key, sizeof(key))) == NULL)
				return NULL;
			s = skip_ws(s);
			if (*s++ != ':')
				return NULL;
			s = skip_ws(s);
		}
		if ((s = skip_value(s)) == NULL)
			return NULL;
		s = skip_ws(s);
		if (*s == ',')
			s = skip_ws(s + 1);
	}
	return *s == close ? s + 1 : NULL;
}

static const char *
skip_value(const char *s)
{
	char text[256];
	uint64_t v;
	if (*s == '{')
		return skip_object(s, '{', '}');
	if (*s == '[')
		return skip_object(s, '[', ']');
	if (*s == '"')
		return read_string(s, text, sizeof(text));
	if (strncmp(s, "true", 4) == 0 || strncmp(s, "null", 4) == 0)
		return s + 4;
	if (strncmp(s, "false", 5) == 0)
		return s + 5;
	return read_number(s, &v);
}

static const char *
read_calls(const char *s, const struct ward_report_layout *l, uint64_t *value)
{
	if (*s++ != '{')
		return NULL;
	for (s = skip_ws(s); *s && *s != '}';) {
		char name[64];
		if ((s = read_string(s, name, sizeof(name))) == NULL)
			return NULL;
		s = skip_ws(s);
		if (*s++ != ':')
			return NULL;
		int id = call_index(l, name);
		uint64_t ignored[3] = { 0 };
		s = id >= 0 ? read_flat(s, l, value, per_call_index, 3 * id) : read_flat(s, l, ignored, per_call_index, 0);
		if (s == NULL)
			return NULL;
		s = skip_ws(s);
		if (*s == ',')
			s = skip_ws(s + 1);
	}
	return *s == '}' ? s + 1 : NULL;
}

static const char *
read_group(const char *s, const struct ward_report_layout *l, uint64_t *value, struct group_fields *g)
{
	char key[64];
	s = skip_ws(s);
	if (*s++ != '{')
		return NULL;
	for (s = skip_ws(s); *s && *s != '}';) {
		if ((s = read_string(s, key, sizeof(key))) == NULL)
			return NULL;
		s = skip_ws(s);
		if (*s++ != ':')
			return NULL;
		s = skip_ws(s);
		if (strcmp(key, "calls") == 0) {
			s = read_calls(s, l, value);
		} else if (*s == '{' && (strcmp(key, "files") == 0 || strcmp(key, "policy") == 0 ||
		                         strcmp(key, "processes") == 0 || strcmp(key, "started") == 0 ||
		                         strcmp(key, "memory") == 0)) {
			s = read_flat(s, l, value,
			              key[0] == 'f' ? files_index : key[0] == 'm' ? memory_index
			                                          : key[1] == 'o' ? policy_index : processes_index, 0);
		} else if (strcmp(key, "programs") == 0 && *s == '{') {
			g->programs = s;
			s = skip_value(s);
		} else if (*s == '"' && strcmp(key, "exe") == 0) {
			char text[256];
			if ((s = read_string(s, text, sizeof(text))) != NULL)
				snprintf(g->exe, sizeof(g->exe), "%.63s", text);
		} else if (*s >= '0' && *s <= '9') {
			uint64_t v;
			if ((s = read_number(s, &v)) == NULL)
				return NULL;
			if (strcmp(key, "processes") == 0)
				g->processes = v, g->has_processes = true;
			else if (strcmp(key, "unfinished") == 0)
				g->unfinished = v;
			else if (strcmp(key, "ward_stats_version") == 0)
				g->stats_version = v;
			else if (strcmp(key, "ward_report_version") == 0)
				g->report_version = v;
			else if (strcmp(key, "unrecorded") == 0)
				g->unrecorded = v;
		} else {
			s = skip_value(s);
		}
		if (s == NULL)
			return NULL;
		s = skip_ws(s);
		if (*s == ',')
			s = skip_ws(s + 1);
	}
	return *s == '}' ? s + 1 : NULL;
}

/* Several process images of one program at once (a tree report's group). */
static void
add_group(struct ward_report *r, const char *exe, const uint64_t *value, uint64_t processes, uint64_t unfinished)
{
	struct ward_report_program *p = program(r, exe[0] ? exe : "?");
	struct ward_report_program *to[2] = { p, &r->total };
	for (int i = 0; i < 2; i++) {
		if (to[i] == NULL)
			continue;
		to[i]->processes += processes;
		to[i]->unfinished += unfinished;
		ward_counters_combine(to[i]->value, value);
	}
}

/* A tree report's "programs": {"make":{group},...}. */
static bool
add_programs(struct ward_report *r, const char *s)
{
	static uint64_t value[WARD_COUNTERS_MAX];
	if (*s++ != '{')
		return false;
	for (s = skip_ws(s); *s && *s != '}';) {
		char exe[64];
		struct group_fields g = { 0 };
		if ((s = read_string(s, exe, sizeof(exe))) == NULL)
			return false;
		s = skip_ws(s);
		if (*s++ != ':')
			return false;
		memset(value, 0, sizeof(value));
		if ((s = read_group(s, r->layout, value, &g)) == NULL || !g.has_processes)
			return false;
		add_group(r, exe, value, g.processes, g.unfinished);
		s = skip_ws(s);
		if (*s == ',')
			s = skip_ws(s + 1);
	}
	return *s == '}';
}

bool
ward_report_add_json(struct ward_report *r, const char *line)
{
	static uint64_t value[WARD_COUNTERS_MAX];
	struct group_fields g = { .exe = "?" };
	memset(value, 0, sizeof(value));
	const char *s = read_group(line, r->layout, value, &g);
	if (s == NULL || *skip_ws(s) != '\0')
		return false;
	if (g.stats_version == 1) {
		ward_report_add(r, g.exe, value, true);
		return true;
	}
	if (g.report_version != 1 || g.programs == NULL || !add_programs(r, g.programs))
		return false;
	r->unrecorded += g.unrecorded;
	return true;
}

/* ---- printing ---- */

static uint64_t
sum_calls(const struct ward_report_layout *l, const uint64_t *v, unsigned int k)
{
	uint64_t n = 0;
	for (size_t i = 0; i < l->ncalls; i++)
		n += v[3 * i + k];
	return n;
}

static int
by_calls(const void *a, const void *b, void *v)
{
	const uint64_t *value = v;
	uint64_t x = value[3 * *(const size_t *)a], y = value[3 * *(const size_t *)b];
	return x < y ? 1 : x > y ? -1 : 0;
}

static void
print_text(struct ward_report *r, FILE *out)
{
	const struct ward_report_layout *l = r->layout;
	const uint64_t *t = r->total.value;
	size_t *order = malloc(l->ncalls * sizeof(size_t));
	if (order == NULL)
		return;
	for (size_t i = 0; i < l->ncalls; i++)
		order[i] = i;
	qsort_r(order, l->ncalls, sizeof(size_t), by_calls, (void *)t);
	fprintf(out, "ward: %llu process%s%s\n", (unsigned long long)r->total.processes,
	        r->total.processes == 1 ? "" : "es",
	        r->total.unfinished ? " (some killed or still running: figures up to their last call)" : "");
	fprintf(out, "%12s %10s %10s  %s\n", "calls", "errors", "denied", "function");
	fprintf(out, "------------ ---------- ----------  ----------------\n");
	for (size_t k = 0; k < l->ncalls; k++) {
		size_t i = order[k];
		if (t[3 * i] == 0)
			continue;
		fprintf(out, "%12llu %10llu %10llu  %s\n", (unsigned long long)t[3 * i],
		        (unsigned long long)t[3 * i + 1], (unsigned long long)t[3 * i + 2], l->names[i]);
	}
	fprintf(out, "------------ ---------- ----------  ----------------\n");
	fprintf(out, "%12llu %10llu %10llu  total\n", (unsigned long long)sum_calls(l, t, 0),
	        (unsigned long long)sum_calls(l, t, 1), (unsigned long long)sum_calls(l, t, 2));
	free(order);
	fprintf(out, "\n%-20s %9s %12s %10s %10s %10s %14s %14s\n", "program", "processes", "calls", "errors",
	        "denied", "opened", "bytes read", "bytes written");
	for (size_t p = 0; p < r->nprograms + 1; p++) {
		const struct ward_report_program *g = p < r->nprograms ? &r->program[p] : &r->total;
		const uint64_t *v = g->value;
		fprintf(out, "%-20s %9llu %12llu %10llu %10llu %10llu %14llu %14llu\n", g->exe,
		        (unsigned long long)g->processes, (unsigned long long)sum_calls(l, v, 0),
		        (unsigned long long)sum_calls(l, v, 1), (unsigned long long)sum_calls(l, v, 2),
		        (unsigned long long)v[l->files_opened], (unsigned long long)v[l->bytes_read],
		        (unsigned long long)v[l->bytes_written]);
	}
	if (t[l->allocations])
		fprintf(out, "memory: %llu allocations, %llu frees, %llu bytes allocated, %llu most live in one process\n",
		        (unsigned long long)t[l->allocations], (unsigned long long)t[l->frees],
		        (unsigned long long)t[l->heap_allocated], (unsigned long long)t[l->heap_peak]);
	if (t[l->decisions])
		fprintf(out, "policy: %llu decisions, %llu denied, %llu audited\n", (unsigned long long)t[l->decisions],
		        (unsigned long long)t[l->policy_denied], (unsigned long long)t[l->audited]);
	if (r->unrecorded)
		fprintf(out, "ward: %llu processes were not recorded (tree full)\n", (unsigned long long)r->unrecorded);
}

static void
print_json_group(const struct ward_report_layout *l, const struct ward_report_program *g, FILE *out)
{
	const uint64_t *v = g->value;
	fprintf(out, "{\"processes\":%llu,\"unfinished\":%llu,\"calls\":{", (unsigned long long)g->processes,
	        (unsigned long long)g->unfinished);
	const char *sep = "";
	for (size_t i = 0; i < l->ncalls; i++) {
		if (v[3 * i] == 0)
			continue;
		fprintf(out, "%s\"%s\":{\"calls\":%llu,\"errors\":%llu,\"denied\":%llu}", sep, l->names[i],
		        (unsigned long long)v[3 * i], (unsigned long long)v[3 * i + 1], (unsigned long long)v[3 * i + 2]);
		sep = ",";
	}
	fprintf(out, "},\"files\":{\"opened\":%llu,\"closed\":%llu,\"bytes_read\":%llu,\"bytes_written\":%llu},"
	             "\"started\":{\"forks\":%llu,\"execs\":%llu,\"spawns\":%llu},"
	             "\"memory\":{\"allocations\":%llu,\"frees\":%llu,\"bytes_allocated\":%llu,\"bytes_freed\":%llu,"
	             "\"peak_bytes\":%llu},"
	             "\"policy\":{\"decisions\":%llu,\"denied\":%llu,\"audited\":%llu}}",
	        (unsigned long long)v[l->files_opened], (unsigned long long)v[l->files_closed],
	        (unsigned long long)v[l->bytes_read], (unsigned long long)v[l->bytes_written],
	        (unsigned long long)v[l->forks], (unsigned long long)v[l->execs], (unsigned long long)v[l->spawns],
	        (unsigned long long)v[l->allocations], (unsigned long long)v[l->frees],
	        (unsigned long long)v[l->heap_allocated], (unsigned long long)v[l->heap_freed],
	        (unsigned long long)v[l->heap_peak], (unsigned long long)v[l->decisions], (unsigned long long)v[l->policy_denied],
	        (unsigned long long)v[l->audited]);
}

static void
print_json(struct ward_report *r, FILE *out)
{
	fprintf(out, "{\"ward_report_version\":1,\"unrecorded\":%llu,\"total\":", (unsigned long long)r->unrecorded);
	print_json_group(r->layout, &r->total, out);
	fprintf(out, ",\"programs\":{");
	for (size_t p = 0; p < r->nprograms; p++) {
		char name[6 * sizeof(r->program[p].exe) + 1];
		ward_json_escape(name, sizeof(name), r->program[p].exe);
		fprintf(out, "%s\"%s\":", p ? "," : "", name);
		print_json_group(r->layout, &r->program[p], out);
	}
	fprintf(out, "}}\n");
}

/* Every figure of the JSON report, one metric family each, labelled with
 * the program (exe); the JSON's total is the sum over exe, which
 * Prometheus computes itself, so it is not repeated. */
struct prom_figure {
	const char *name, *type, *help;
	int kind;          /* 0: a counter index of the layout; 1: processes; 2: unfinished */
	size_t offset;     /* offsetof the index in struct ward_report_layout */
};

#define LAYOUT(field) offsetof(struct ward_report_layout, field)

static const struct prom_figure prom_figures[] = {
	{ "ward_tree_processes", "gauge", "Process images by program.", 1, 0 },
	{ "ward_tree_unfinished_processes", "gauge", "Process images killed, or still running at the report.", 2, 0 },
	{ "ward_tree_files_opened_total", "counter", "File descriptors created.", 0, LAYOUT(files_opened) },
	{ "ward_tree_files_closed_total", "counter", "File descriptors closed.", 0, LAYOUT(files_closed) },
	{ "ward_tree_read_bytes_total", "counter", "Bytes read through intercepted calls.", 0, LAYOUT(bytes_read) },
	{ "ward_tree_written_bytes_total", "counter", "Bytes written through intercepted calls.", 0,
	  LAYOUT(bytes_written) },
	{ "ward_tree_forks_total", "counter", "Children made by fork, vfork and _Fork.", 0, LAYOUT(forks) },
	{ "ward_tree_execs_total", "counter", "Execs that replaced an image.", 0, LAYOUT(execs) },
	{ "ward_tree_spawns_total", "counter", "Children made by posix_spawn, system and popen.", 0, LAYOUT(spawns) },
	{ "ward_tree_allocations_total", "counter", "Blocks the malloc family handed out.", 0, LAYOUT(allocations) },
	{ "ward_tree_frees_total", "counter", "Blocks given back to the allocator.", 0, LAYOUT(frees) },
	{ "ward_tree_heap_allocated_bytes_total", "counter", "Usable bytes handed out.", 0, LAYOUT(heap_allocated) },
	{ "ward_tree_heap_freed_bytes_total", "counter", "Usable bytes given back.", 0, LAYOUT(heap_freed) },
	{ "ward_tree_heap_peak_bytes", "gauge", "Most live heap bytes at once in one process image.", 0,
	  LAYOUT(heap_peak) },
	{ "ward_tree_policy_decisions_total", "counter", "Policy decisions made.", 0, LAYOUT(decisions) },
	{ "ward_tree_policy_denied_total", "counter", "Operations the policy refused.", 0, LAYOUT(policy_denied) },
	{ "ward_tree_policy_audited_total", "counter", "Operations let through in audit mode.", 0, LAYOUT(audited) },
};

static void
print_prom(struct ward_report *r, FILE *out)
{
	const struct ward_report_layout *l = r->layout;
	static const char *const kinds[] = { "calls", "errors", "denied" };
	static const char *const helps[] = { "Intercepted calls by program and function.",
		                             "Intercepted calls that failed.",
		                             "Intercepted calls the policy refused." };
	char name[2 * sizeof(r->program[0].exe) + 1];
	for (unsigned int k = 0; k < 3; k++) {
		fprintf(out, "# HELP ward_tree_%s_total %s\n# TYPE ward_tree_%s_total counter\n", kinds[k], helps[k],
		        kinds[k]);
		for (size_t p = 0; p < r->nprograms; p++) {
			ward_prom_escape(name, sizeof(name), r->program[p].exe);
			for (size_t i = 0; i < l->ncalls; i++)
				if (r->program[p].value[3 * i])
					fprintf(out, "ward_tree_%s_total{exe=\"%s\",call=\"%s\"} %llu\n", kinds[k], name,
					        l->names[i], (unsigned long long)r->program[p].value[3 * i + k]);
		}
	}
	for (size_t f = 0; f < sizeof(prom_figures) / sizeof(prom_figures[0]); f++) {
		const struct prom_figure *m = &prom_figures[f];
		fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name, m->type);
		unsigned int index = m->kind == 0 ? *(const unsigned int *)((const char *)l + m->offset) : 0;
		for (size_t p = 0; p < r->nprograms; p++) {
			const struct ward_report_program *g = &r->program[p];
			uint64_t v = m->kind == 1 ? g->processes : m->kind == 2 ? g->unfinished : g->value[index];
			ward_prom_escape(name, sizeof(name), g->exe);
			fprintf(out, "%s{exe=\"%s\"} %llu\n", m->name, name, (unsigned long long)v);
		}
	}
	fprintf(out, "# HELP ward_tree_unrecorded_processes Process images the tree had no record for.\n"
	             "# TYPE ward_tree_unrecorded_processes gauge\nward_tree_unrecorded_processes %llu\n",
	        (unsigned long long)r->unrecorded);
}

void
ward_report_print(struct ward_report *r, enum ward_stats_format format, FILE *out)
{
	if (format == WARD_FORMAT_JSON)
		print_json(r, out);
	else if (format == WARD_FORMAT_PROM)
		print_prom(r, out);
	else
		print_text(r, out);
	fflush(out);
}
