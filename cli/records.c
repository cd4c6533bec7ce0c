/*
 * records.c: the tree's records file, read back and merged (records.h).
 *
 * Who may write the file: the launcher's own user always; when the
 * launcher runs as root, a process of the tree may switch to another user
 * (su, setpriv, a build that drops privileges) and must still be able to
 * append.  So as root the directory is 0711 (others may pass through it
 * but not list it) and the file 0622 (others may write, never read) with a
 * name carrying 128 random bits: only a process that was told the name in
 * WARD_RECORDS can open it.  Otherwise both are private (0700, 0600).
 *
 * The reader is a small JSON object parser for the one-line records the
 * shim writes; unknown keys and arrays (backtraces) are skipped.
 */
#define _GNU_SOURCE
#include "records.h"
#include "../core/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the file ---- */

static bool
random_hex(char *out, size_t bytes)
{
	unsigned char raw[32];
	if (bytes > sizeof(raw) || getrandom(raw, bytes, 0) != (ssize_t)bytes)
		return false;
	for (size_t i = 0; i < bytes; i++)
		sprintf(out + 2 * i, "%02x", raw[i]);
	return true;
}

static int
create_in(const char *base, char *dir, size_t dircap, char *path, size_t pathcap)
{
	bool root = geteuid() == 0;
	char name[33];
	/* the launcher's pid in the name: a later run removes it if that launcher
	 * died (scratch.c) */
	if ((size_t)snprintf(dir, dircap, "%s/ward-records.%ld.XXXXXX", base, (long)getpid()) >= dircap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdtemp(dir) == NULL)
		return -1;
	if (!random_hex(name, 16) || (size_t)snprintf(path, pathcap, "%s/%s.jsonl", dir, name) >= pathcap ||
	    chmod(dir, root ? 0711 : 0700) != 0) {
		rmdir(dir);
		errno = errno ? errno : ENAMETOOLONG;
		return -1;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, root ? 0622 : 0600) != 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		ward_records_remove(dir, path);
		errno = err;
		return -1;
	}
	close(fd);
	return 0;
}

int
ward_records_create(const char *const dirs[], size_t ndirs, char *dir, size_t dircap, char *path,
                    size_t pathcap)
{
	int err = ENOENT;
	for (size_t i = 0; i < ndirs; i++) {
		if (dirs[i] == NULL || dirs[i][0] == '\0')
			continue;
		if (create_in(dirs[i], dir, dircap, path, pathcap) == 0)
			return 0;
		err = errno;
	}
	dir[0] = path[0] = '\0';
	errno = err;
	return -1;
}

void
ward_records_remove(const char *dir, const char *path)
{
	if (path != NULL && path[0] != '\0')
		unlink(path);
	if (dir != NULL && dir[0] != '\0')
		rmdir(dir);
}

/* A note under --strict: a process only the kernel held (static, or no
 * Syscall User Dispatch); not a violation. */
#define KERNEL_CONFINED "kernel-confined"

/* ---- one JSON line ---- */

struct fields {
	char decision[16], op[128], path[4096], rule[4200], exe[256], via[32];
	bool quiet;
	bool has_decision, has_op, has_path;
};

static const char *
skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return s;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A \uXXXX escape as UTF-8 (the shim writes \u00XX for single bytes). */
static size_t
put_code(char *out, unsigned int code)
{
	if (code < 0x100 && code >= 0x80) { /* a raw byte the shim escaped */
		out[0] = (char)code;
		return 1;
	}
	if (code < 0x80) {
		out[0] = (char)code;
		return 1;
	}
	if (code < 0x800) {
		out[0] = (char)(0xc0 | (code >> 6));
		out[1] = (char)(0x80 | (code & 0x3f));
		return 2;
	}
	out[0] = (char)(0xe0 | (code >> 12));
	out[1] = (char)(0x80 | ((code >> 6) & 0x3f));
	out[2] = (char)(0x80 | (code & 0x3f));
	return 3;
}

/* A string at s (after its opening quote); NULL if malformed.  Truncated
 * to cap - 1 bytes. */
static const char *
read_string(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	char unit[4];
	while (*s != '"') {
		size_t len = 1;
		unit[0] = *s;
		if (*s == '\0' || (unsigned char)*s < 0x20)
			return NULL;
		if (*s == '\\') {
			s++;
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			const char *e = *s ? strchr(from, *s) : NULL;
			if (e != NULL)
				unit[0] = to[e - from];
			else if (*s == 'u') {
				unsigned int code = 0;
				for (int i = 1; i <= 4; i++) {
					int d = hex_digit(s[i]);
					if (d < 0)
						return NULL;
					code = code * 16 + (unsigned int)d;
				}
				s += 4;
				len = put_code(unit, code);
			} else
				return NULL;
		}
		s++;
		if (out != NULL && n + len < cap) {
			memcpy(out + n, unit, len);
			n += len;
		}
	}
	if (out != NULL)
		out[n] = '\0';
	return s + 1;
}

static const char *skip_value(const char *s, int depth);

static const char *
skip_list(const char *s, char close, int depth)
{
	s = skip_blanks(s + 1);
	if (*s == close)
		return s + 1;
	for (;;) {
		if (close == '}') {
			if (*s != '"' || (s = read_string(s + 1, NULL, 0)) == NULL)
				return NULL;
			s = skip_blanks(s);
			if (*s++ != ':')
				return NULL;
		}
		if ((s = skip_value(skip_blanks(s), depth + 1)) == NULL)
			return NULL;
		s = skip_blanks(s);
		if (*s == close)
			return s + 1;
		if (*s++ != ',')
			return NULL;
		s = skip_blanks(s);
	}
}

static const char *
skip_value(const char *s, int depth)
{
	if (depth > 8)
		return NULL;
	if (*s == '"')
		return read_string(s + 1, NULL, 0);
	if (*s == '[')
		return skip_list(s, ']', depth);
	if (*s == '{')
		return skip_list(s, '}', depth);
	const char *start = s;
	while (*s && strchr("0123456789+-.eEtruefalsn", *s) != NULL)
		s++;
	return s > start ? s : NULL;
}

/* The value of one key: strings we want are copied, the rest skipped. */
static const char *
read_member(const char *s, const char *key, struct fields *f)
{
	static const struct {
		const char *key;
		size_t offset, size, flag;
	} wanted[] = {
		{ "decision", offsetof(struct fields, decision), sizeof(((struct fields *)0)->decision),
		  offsetof(struct fields, has_decision) },
		{ "op", offsetof(struct fields, op), sizeof(((struct fields *)0)->op), offsetof(struct fields, has_op) },
		{ "path", offsetof(struct fields, path), sizeof(((struct fields *)0)->path),
		  offsetof(struct fields, has_path) },
		{ "rule", offsetof(struct fields, rule), sizeof(((struct fields *)0)->rule), SIZE_MAX },
		{ "exe", offsetof(struct fields, exe), sizeof(((struct fields *)0)->exe), SIZE_MAX },
		{ "via", offsetof(struct fields, via), sizeof(((struct fields *)0)->via), SIZE_MAX },
	};
	if (strcmp(key, "quiet") == 0) {
		f->quiet = strncmp(s, "true", 4) == 0;
		return skip_value(s, 0);
	}
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		if (strcmp(key, wanted[i].key) != 0 || *s != '"')
			continue;
		if (wanted[i].flag != SIZE_MAX)
			*(bool *)((char *)f + wanted[i].flag) = true;
		return read_string(s + 1, (char *)f + wanted[i].offset, wanted[i].size);
	}
	return skip_value(s, 0);
}

static bool
parse_record(const char *line, struct fields *f)
{
	memset(f, 0, sizeof(*f));
	const char *s = skip_blanks(line);
	if (*s != '{')
		return false;
	s = skip_blanks(s + 1);
	while (*s != '}') {
		char key[32];
		if (*s != '"' || (s = read_string(s + 1, key, sizeof(key))) == NULL)
			return false;
		s = skip_blanks(s);
		if (*s != ':' || (s = read_member(skip_blanks(s + 1), key, f)) == NULL)
			return false;
		s = skip_blanks(s);
		if (*s == ',')
			s = skip_blanks(s + 1);
		else if (*s != '}')
			return false;
	}
	return *skip_blanks(s + 1) == '\0' && f->has_decision && f->has_op && f->has_path;
}

/* ---- merging ---- */

void
ward_records_init(struct ward_records *r)
{
	memset(r, 0, sizeof(*r));
}

void
ward_records_free(struct ward_records *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct ward_record_entry *e = &r->entry[i];
		free(e->decision);
		free(e->op);
		free(e->path);
		free(e->rule);
		free(e->via);
		for (size_t k = 0; k < e->nprograms; k++)
			free(e->program[k]);
	}
	free(r->entry);
	free(r->slot);
	ward_records_init(r);
}

static void *
must(void *p)
{
	if (p == NULL) {
		fputs("ward: out of memory reading the tree's records\n", stderr);
		exit(125);
	}
	return p;
}

static uint64_t
hash_fields(const struct fields *f)
{
	uint64_t h = 1469598103934665603ull;
	const char *parts[] = { f->decision, f->op, f->path, f->rule, f->via };
	for (size_t i = 0; i < 5; i++) {
		for (const char *s = parts[i]; *s; s++)
			h = (h ^ (unsigned char)*s) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return h ^ (f->quiet ? 0x9e3779b97f4a7c15ull : 0);
}

static bool
same(const struct ward_record_entry *e, const struct fields *f)
{
	return e->quiet == f->quiet && strcmp(e->path, f->path) == 0 && strcmp(e->op, f->op) == 0 &&
	       strcmp(e->decision, f->decision) == 0 && strcmp(e->rule, f->rule) == 0 && strcmp(e->via, f->via) == 0;
}

static void
grow_index(struct ward_records *r)
{
	size_t nslots = r->nslots ? 2 * r->nslots : 256;
	size_t *slot = must(calloc(nslots, sizeof(*slot)));
	for (size_t i = 0; i < r->n; i++) {
		struct fields f;
		snprintf(f.decision, sizeof(f.decision), "%s", r->entry[i].decision);
		snprintf(f.op, sizeof(f.op), "%s", r->entry[i].op);
		snprintf(f.path, sizeof(f.path), "%s", r->entry[i].path);
		snprintf(f.rule, sizeof(f.rule), "%s", r->entry[i].rule);
		snprintf(f.via, sizeof(f.via), "%s", r->entry[i].via);
		f.quiet = r->entry[i].quiet;
		size_t k = hash_fields(&f) & (nslots - 1);
		while (slot[k] != 0)
			k = (k + 1) & (nslots - 1);
		slot[k] = i + 1;
	}
	free(r->slot);
	r->slot = slot;
	r->nslots = nslots;
}

static struct ward_record_entry *
find_or_add(struct ward_records *r, const struct fields *f)
{
	if (2 * (r->n + 1) > r->nslots)
		grow_index(r);
	size_t k = hash_fields(f) & (r->nslots - 1);
	for (; r->slot[k] != 0; k = (k + 1) & (r->nslots - 1))
		if (same(&r->entry[r->slot[k] - 1], f))
			return &r->entry[r->slot[k] - 1];
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->entry = must(realloc(r->entry, r->cap * sizeof(*r->entry)));
	}
	struct ward_record_entry *e = &r->entry[r->n];
	*e = (struct ward_record_entry){
		.decision = must(strdup(f->decision)), .op = must(strdup(f->op)), .path = must(strdup(f->path)),
		.rule = must(strdup(f->rule)), .via = must(strdup(f->via)), .quiet = f->quiet, .first = r->n,
	};
	r->slot[k] = ++r->n;
	return e;
}

static void
add_program(struct ward_record_entry *e, const char *exe)
{
	for (size_t i = 0; i < e->nprograms; i++)
		if (strcmp(e->program[i], exe) == 0)
			return;
	if (e->nprograms == WARD_RECORDS_PROGRAMS) {
		e->more_programs = true;
		return;
	}
	e->program[e->nprograms++] = must(strdup(exe[0] ? exe : "?"));
}

/* "default" or FILE:LINE: a refusal the policy's rules decided (not a
 * limit's, not one of the routes the shim refuses itself). */
static bool
by_a_rule(const char *rule)
{
	const char *colon = strrchr(rule, ':');
	if (strcmp(rule, "default") == 0)
		return true;
	return colon != NULL && colon[1] != '\0' && strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
	       strncmp(rule, "limit ", 6) != 0;
}

bool
ward_records_add_line(struct ward_records *r, const char *line)
{
	static struct fields f; /* big: not on the stack */
	if (!parse_record(line, &f)) {
		r->malformed++;
		return false;
	}
	r->lines++;
	if (strcmp(f.decision, "probed") == 0)
		r->probed++;
	else if (strcmp(f.decision, KERNEL_CONFINED) == 0)
		r->kernel_confined++;
	else if (f.quiet)
		r->quiet++;
	else if (strcmp(f.decision, "audited") == 0)
		r->audited++;
	else if (strcmp(f.decision, "killed") == 0)
		r->killed++;
	else
		r->denied++;
	if ((strcmp(f.decision, "denied") == 0 || strcmp(f.decision, "killed") == 0) && by_a_rule(f.rule))
		r->by_rule++;
	struct ward_record_entry *e = find_or_add(r, &f);
	e->count++;
	add_program(e, f.exe);
	return true;
}

bool
ward_records_read(struct ward_records *r, const char *path)
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return false;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] != '\n') { /* a record cut short (a full disk): not a record */
			r->malformed++;
			continue;
		}
		if (n > 1)
			ward_records_add_line(r, line);
	}
	free(line);
	bool ok = !ferror(f);
	fclose(f);
	return ok;
}

/* ---- the summary ---- */

unsigned long
ward_records_refusals(const struct ward_records *r)
{
	return r->denied + r->killed;
}

void
ward_records_describe_rule(const char *rule, char *out, size_t cap)
{
	const char *colon = strrchr(rule, ':');
	bool file_line = colon != NULL && colon[1] != '\0' && strspn(colon + 1, "0123456789") == strlen(colon + 1);
	if (strcmp(rule, "default") == 0)
		snprintf(out, cap, "default deny");
	else if (file_line && strncmp(rule, "limit ", 6) != 0)
		snprintf(out, cap, "rule %s", rule);
	else
		snprintf(out, cap, "%s", rule[0] ? rule : "?");
}

static int
most_frequent_first(const void *a, const void *b)
{
	const struct ward_record_entry *x = *(const struct ward_record_entry *const *)a;
	const struct ward_record_entry *y = *(const struct ward_record_entry *const *)b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

static bool
is_note(const struct ward_record_entry *e)
{
	return strcmp(e->decision, "probed") == 0 || strcmp(e->decision, KERNEL_CONFINED) == 0;
}

/* Text from the records (names are any bytes a program chose) escaped as
 * the shim's own lines are: one summary line stays one line, and no name
 * can print a line of its own. */
static void
put_escaped(const char *text, FILE *out)
{
	size_t cap = 6 * strlen(text) + 1;
	char *escaped = must(malloc(cap));
	ward_json_escape(escaped, cap, text);
	fputs(escaped, out);
	free(escaped);
}

static void
print_entry(const struct ward_record_entry *e, FILE *out)
{
	char by[4300];
	ward_records_describe_rule(e->rule, by, sizeof(by));
	fprintf(out, "ward: %7lu ", e->count);
	put_escaped(e->decision, out);
	fputc(' ', out);
	put_escaped(e->op, out);
	fputc(' ', out);
	put_escaped(e->path, out);
	fputs(" by ", out);
	put_escaped(by, out);
	if (e->via[0]) {
		fputs(" (", out);
		put_escaped(e->via, out);
		fputs(", a system call made outside libc)", out);
	}
	fputs(" [", out);
	for (size_t i = 0; i < e->nprograms; i++) {
		fputs(i ? ", " : "", out);
		put_escaped(e->program[i], out);
	}
	fprintf(out, "%s]\n", e->more_programs ? ", ..." : "");
}

static void
print_totals(const struct ward_records *r, FILE *out)
{
	const char *sep = "";
	fputs("ward: violations of the policy (", out);
	const struct {
		unsigned long n;
		const char *what;
	} kinds[] = { { r->denied, "denied" }, { r->killed, "killed" }, { r->audited, "audited" },
		      { r->quiet, "quiet denials" } };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (kinds[i].n == 0)
			continue;
		fprintf(out, "%s%lu %s", sep, kinds[i].n, kinds[i].what);
		sep = ", ";
	}
	fputs(")", out);
}

void
ward_records_summary(const struct ward_records *r, FILE *out, size_t max_lines)
{
	if (r->lines == 0 && r->malformed == 0)
		return;
	const struct ward_record_entry **order = must(calloc(r->n + 1, sizeof(*order)));
	size_t listed = 0;
	for (size_t i = 0; i < r->n; i++)
		if (!r->entry[i].quiet && !is_note(&r->entry[i]))
			order[listed++] = &r->entry[i];
	qsort(order, listed, sizeof(*order), most_frequent_first);
	if (r->denied + r->killed + r->audited + r->quiet + r->malformed > 0) {
		print_totals(r, out);
		fputs(listed ? ", most frequent first:\n" : ":\n", out);
	}
	for (size_t i = 0; i < listed && i < max_lines; i++)
		print_entry(order[i], out);
	if (listed > max_lines)
		fprintf(out, "ward: ... and %zu more (every record: ward run --log FILE)\n", listed - max_lines);
	if (r->quiet)
		fprintf(out, "ward: %7lu quiet denial%s (deny quiet), not listed\n", r->quiet, r->quiet == 1 ? "" : "s");
	if (r->probed) { /* a program that probes (make's PATH search) and then gives up tried nothing */
		fprintf(out, "ward: %7lu access() probe%s answered as the policy decides (not violations):\n", r->probed,
		        r->probed == 1 ? "" : "s");
		size_t shown = 0;
		for (size_t i = 0; i < r->n && shown < max_lines; i++)
			if (strcmp(r->entry[i].decision, "probed") == 0) {
				print_entry(&r->entry[i], out);
				shown++;
			}
	}
	if (r->kernel_confined) { /* under --strict: held by the kernel, which says nothing of what it refused */
		fprintf(out,
		        "ward: %7lu process%s ran kernel-confined only (the kernel held %s to the policy; no record of "
		        "what it refused could be had):\n",
		        r->kernel_confined, r->kernel_confined == 1 ? "" : "es", r->kernel_confined == 1 ? "it" : "them");
		size_t shown = 0;
		for (size_t i = 0; i < r->n && shown < max_lines; i++)
			if (strcmp(r->entry[i].decision, KERNEL_CONFINED) == 0) {
				print_entry(&r->entry[i], out);
				shown++;
			}
	}
	if (r->malformed)
		fprintf(out, "ward: %lu lines of the records file were not records (cut short?)\n", r->malformed);
	free(order);
}
