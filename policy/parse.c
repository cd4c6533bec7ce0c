/*
 * parse.c: the version 1 policy language, line by line.
 *
 * A line is split into tokens (blanks separate them, "double quotes" with \"
 * and \\ hold blanks, # starts a comment at the start of a token); the first
 * token names the directive.  Includes recurse with the including file's
 * folder as base and a stack of canonical names to refuse cycles.
 */
#define _GNU_SOURCE
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_INCLUDE_DEPTH 32

struct token {
	char *text;
	int col;
};

struct line {
	struct token *tok;
	size_t n, cap;
};

/* The settings a file may make, and who made each (see policy.h). */
enum setting {
	SET_MODE, SET_DEFAULT, SET_LIMIT_MEMORY, SET_LIMIT_CHILDREN, SET_LIMIT_FDS, SET_WX,
	SET_UNCONFINED, SET_LOG, SET_STATS, SET_BACKTRACE, SET_STRICT, SET_COUNT
};

struct owner {
	int file_id;      /* 0: never set */
	const char *file; /* as named in messages (policy->files) */
	int line;
};

struct parser {
	struct ward_policy *policy;
	const struct ward_policy_env *env;
	struct ward_policy_error *error;
	const char *stack[MAX_INCLUDE_DEPTH]; /* canonical names being read */
	int stack_id[MAX_INCLUDE_DEPTH];      /* their file ids */
	int depth;
	int file_id, next_id; /* current file's id (1, 2, ... in reading order) */
	const char *file;     /* current file, as named in messages */
	int line;
	struct owner owner[SET_COUNT];
};

__attribute__((format(printf, 3, 4))) static bool
fail(struct parser *ps, int col, const char *fmt, ...)
{
	struct ward_policy_error *e = ps->error;
	snprintf(e->file, sizeof(e->file), "%s", ps->file);
	e->line = ps->line;
	e->col = col;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return false;
}

static void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL) {
		fputs("ward: out of memory reading a policy\n", stderr);
		abort();
	}
	return q;
}

static char *
xstrdup(const char *s)
{
	return strcpy(xrealloc(NULL, strlen(s) + 1), s);
}

static void
line_clear(struct line *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->tok[i].text);
	l->n = 0;
}

/* ---- tokens ---- */

static bool
tokenize(struct parser *ps, const char *s, size_t len, struct line *out)
{
	size_t i = 0;
	line_clear(out);
	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		if (i >= len || s[i] == '#')
			break;
		int col = (int)i + 1;
		char *text = xrealloc(NULL, len - i + 1);
		size_t n = 0;
		if (s[i] == '"') {
			i++;
			for (;;) {
				if (i >= len) {
					free(text);
					return fail(ps, col, "unterminated quoted token");
				}
				if (s[i] == '"')
					break;
				if (s[i] == '\\' && i + 1 < len && (s[i + 1] == '"' || s[i + 1] == '\\'))
					i++;
				text[n++] = s[i++];
			}
			i++;
			if (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
				free(text);
				return fail(ps, (int)i + 1, "expected a blank after the closing quote");
			}
		} else {
			while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
				if (s[i] == '"') {
					free(text);
					return fail(ps, (int)i + 1, "a quote may only start a token");
				}
				text[n++] = s[i++];
			}
		}
		text[n] = '\0';
		if (out->n == out->cap) {
			out->cap = out->cap ? 2 * out->cap : 8;
			out->tok = xrealloc(out->tok, out->cap * sizeof(*out->tok));
		}
		out->tok[out->n++] = (struct token){ text, col };
	}
	return true;
}

/* ---- variables ---- */

static const char *
lookup(struct parser *ps, const char *name)
{
	const struct ward_policy_env *env = ps->env;
	if (strcmp(name, "CWD") == 0 && env != NULL && env->cwd != NULL)
		return env->cwd;
	const char *v = (env != NULL && env->lookup != NULL) ? env->lookup(name, env->context) : getenv(name);
	if (strcmp(name, "CWD") == 0 && v == NULL) {
		static char *cwd; /* kept: asked once, however deep */
		if (cwd == NULL)
			cwd = getcwd(NULL, 0);
		return cwd;
	}
	if (strcmp(name, "TMPDIR") == 0 && (v == NULL || v[0] == '\0'))
		return "/tmp";
	return v;
}

static void
append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = 2 * (*len + n + 1);
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* A variable's value goes into a pattern literally: the glob language has
 * no escape, so a value with a wildcard in it ('*', '?': a directory named
 * "w*" as $CWD) would widen the rule to its siblings.  Such a value is an
 * error at the variable's column. */
static bool
literal_value(struct parser *ps, const struct token *t, size_t at, const char *name, const char *value)
{
	const char *wild = strpbrk(value, "*?");
	if (wild == NULL)
		return true;
	return fail(ps, t->col + (int)at,
	            "%s%s is '%s': its '%c' would be a wildcard in a pattern (patterns have no escape); "
	            "write the path without the variable, or start from a directory without '*' or '?'",
	            name[0] == '~' ? "" : "$", name, value, *wild);
}

/* $NAME, ${NAME}, and a leading ~ (alone or before '/'). NULL on error.
 * pattern: the values must be literal (literal_value). */
static char *
expand_as(struct parser *ps, const struct token *t, bool pattern)
{
	const char *s = t->text;
	size_t len = 0, cap = strlen(s) + 64;
	char *out = xrealloc(NULL, cap);
	out[0] = '\0';
	if (s[0] == '~' && (s[1] == '\0' || s[1] == '/')) {
		const char *home = lookup(ps, "HOME");
		if (home == NULL || home[0] == '\0') {
			free(out);
			fail(ps, t->col, "~ used but HOME is not defined");
			return NULL;
		}
		if (pattern && !literal_value(ps, t, 0, "~ (HOME)", home)) {
			free(out);
			return NULL;
		}
		append(&out, &len, &cap, home, strlen(home));
		s++;
	}
	while (*s) {
		if (*s != '$') {
			append(&out, &len, &cap, s++, 1);
			continue;
		}
		const char *start = s + 1;
		bool braced = *start == '{';
		if (braced)
			start++;
		const char *end = start;
		while ((*end >= 'A' && *end <= 'Z') || (*end >= 'a' && *end <= 'z') || *end == '_' ||
		       (end > start && *end >= '0' && *end <= '9'))
			end++;
		if (end == start || (braced && *end != '}')) {
			free(out);
			fail(ps, t->col, braced ? "expected ${NAME} with a closing brace" : "expected a variable name after $");
			return NULL;
		}
		char name[128];
		snprintf(name, sizeof(name), "%.*s", (int)(end - start), start);
		const char *value = lookup(ps, name);
		if (value == NULL) {
			free(out);
			fail(ps, t->col, "undefined variable $%s", name);
			return NULL;
		}
		if (pattern && !literal_value(ps, t, (size_t)(start - t->text) - (braced ? 2 : 1), name, value)) {
			free(out);
			return NULL;
		}
		append(&out, &len, &cap, value, strlen(value));
		s = end + (braced ? 1 : 0);
	}
	return out;
}

static char *
expand(struct parser *ps, const struct token *t)
{
	return expand_as(ps, t, false);
}

/* ---- patterns, numbers, operations ---- */

/* Absolute, no . or .. components, ** only as a whole component; folds
 * repeated and trailing slashes.  Rewrites p in place. */
static bool
check_pattern(struct parser *ps, const struct token *t, char *p)
{
	if (p[0] != '/')
		return fail(ps, t->col, "pattern '%s' is not an absolute path", p);
	char *w = p;
	for (const char *r = p; *r;) {
		if (*r == '/') {
			while (*r == '/')
				r++;
			*w++ = '/';
			continue;
		}
		const char *end = strchrnul(r, '/');
		size_t n = (size_t)(end - r);
		if ((n == 1 && r[0] == '.') || (n == 2 && r[0] == '.' && r[1] == '.'))
			return fail(ps, t->col, "pattern '%s' has a '.' or '..' component", t->text);
		const char *stars = memmem(r, n, "**", 2);
		if (stars != NULL && n != 2)
			return fail(ps, t->col, "'**' must be a whole path component in '%s'", t->text);
		memmove(w, r, n);
		w += n;
		r = end;
	}
	if (w > p + 1 && w[-1] == '/')
		w--;
	*w = '\0';
	return true;
}

static bool
parse_count(struct parser *ps, const struct token *t, bool size, uint64_t *out)
{
	const char *s = t->text;
	uint64_t v = 0;
	if (*s < '0' || *s > '9')
		return fail(ps, t->col, size ? "expected a size like 512M, got '%s'" : "expected a number, got '%s'", s);
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return fail(ps, t->col, "number '%s' is too large", t->text);
		v = v * 10 + (uint64_t)(*s - '0');
	}
	unsigned int shift = 0;
	if (size && *s != '\0' && s[1] == '\0') {
		shift = *s == 'K' ? 10 : *s == 'M' ? 20 : *s == 'G' ? 30 : 0;
		if (shift)
			s++;
	}
	if (*s != '\0')
		return fail(ps, t->col, size ? "malformed size '%s' (expected a number with an optional K, M or G)" : "expected a number, got '%s'", t->text);
	if (shift && v > (UINT64_MAX >> shift))
		return fail(ps, t->col, "size '%s' is too large", t->text);
	if (v << shift == 0)
		return fail(ps, t->col, "expected a value above 0, got '%s'", t->text);
	*out = v << shift;
	return true;
}

static const struct {
	const char *name;
	unsigned int ops;
} op_names[] = {
	{ "read", WARD_OP_READ }, { "stat", WARD_OP_STAT }, { "write", WARD_OP_WRITE },
	{ "create", WARD_OP_CREATE }, { "remove", WARD_OP_REMOVE }, { "exec", WARD_OP_EXEC },
	{ "all", WARD_OP_ALL }, { "ro", WARD_OP_READ | WARD_OP_STAT },
	{ "rw", WARD_OP_READ | WARD_OP_STAT | WARD_OP_WRITE | WARD_OP_CREATE | WARD_OP_REMOVE },
	{ "rx", WARD_OP_READ | WARD_OP_STAT | WARD_OP_EXEC },
};

unsigned int
ward_policy_parse_ops(const char *text, size_t *bad)
{
	unsigned int ops = 0;
	const char *s = text;
	for (;;) {
		const char *end = strchrnul(s, ',');
		size_t n = (size_t)(end - s);
		unsigned int found = 0;
		for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
			if (strlen(op_names[i].name) == n && strncmp(op_names[i].name, s, n) == 0)
				found = op_names[i].ops;
		if (found == 0) {
			*bad = (size_t)(s - text);
			return 0;
		}
		ops |= found;
		if (*end == '\0')
			return ops;
		s = end + 1;
	}
}

const char *
ward_op_name(unsigned int op)
{
	for (size_t i = 0; i < 6; i++)
		if (op_names[i].ops == op)
			return op_names[i].name;
	return "all";
}

/* ---- directives ---- */

static bool parse_file(struct parser *ps, const char *path, int col);

static bool
want_args(struct parser *ps, const struct line *l, size_t n, const char *what)
{
	if (l->n == n)
		return true;
	if (l->n < n)
		return fail(ps, l->tok[0].col, "'%s' expects %s", l->tok[0].text, what);
	return fail(ps, l->tok[n].col, "unexpected '%s': '%s' expects %s", l->tok[n].text, l->tok[0].text, what);
}

static int
choose(const char *word, const char *const *choices)
{
	for (int i = 0; choices[i] != NULL; i++)
		if (strcmp(word, choices[i]) == 0)
			return i;
	return -1;
}

static bool
parse_choice(struct parser *ps, const struct line *l, const char *const *choices, const char *expected, int *out)
{
	if (!want_args(ps, l, 2, expected))
		return false;
	int v = choose(l->tok[1].text, choices);
	if (v < 0)
		return fail(ps, l->tok[1].col, "expected %s, got '%s'", expected, l->tok[1].text);
	*out = v;
	return true;
}

static const char *
current_file(struct parser *ps)
{
	struct ward_policy *p = ps->policy;
	for (size_t i = 0; i < p->nfiles; i++)
		if (strcmp(p->files[i], ps->file) == 0)
			return p->files[i];
	p->files = xrealloc(p->files, (p->nfiles + 1) * sizeof(char *));
	return p->files[p->nfiles++] = xstrdup(ps->file);
}

static void
warn(struct parser *ps, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Noted in policy->warning as FILE:LINE:COL: warning: MESSAGE. */
static void
warn(struct parser *ps, int col, const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	struct ward_policy *p = ps->policy;
	size_t len = strlen(ps->file) + strlen(message) + 64;
	char *text = xrealloc(NULL, len);
	snprintf(text, len, "%s:%d:%d: warning: %s", ps->file, ps->line, col, message);
	p->warning = xrealloc(p->warning, (p->nwarnings + 1) * sizeof(char *));
	p->warning[p->nwarnings++] = text;
}

static bool
is_including(const struct parser *ps, int file_id)
{
	for (int i = 0; i < ps->depth - 1; i++)
		if (ps->stack_id[i] == file_id)
			return true;
	return false;
}

static const char *current_file(struct parser *ps);

/* May the current line make setting which?  Not when a file that includes
 * this one (directly or not) made it already: the includer wins.  Returns
 * true and takes ownership otherwise (noting when another file's setting
 * is replaced). */
static bool
settle(struct parser *ps, const struct line *l, enum setting which)
{
	struct owner *o = &ps->owner[which];
	if (o->file_id != 0 && o->file_id != ps->file_id) {
		if (is_including(ps, o->file_id)) {
			warn(ps, l->tok[0].col, "'%s' is overridden by %s:%d (the including file's own setting wins)",
			     l->tok[0].text, o->file, o->line);
			return false;
		}
		warn(ps, l->tok[0].col, "'%s' overrides the one at %s:%d", l->tok[0].text, o->file, o->line);
	}
	*o = (struct owner){ ps->file_id, current_file(ps), ps->line };
	return true;
}

static bool
parse_rule(struct parser *ps, const struct line *l, bool deny)
{
	size_t i = 1;
	bool quiet = false;
	if (l->n > 1 && strcmp(l->tok[1].text, "quiet") == 0) {
		if (!deny)
			return fail(ps, l->tok[1].col, "'quiet' only goes with deny");
		quiet = true;
		i++;
	}
	if (l->n <= i)
		return fail(ps, l->tok[0].col, "'%s' expects operations and at least one pattern", l->tok[0].text);
	size_t bad = 0;
	unsigned int ops = ward_policy_parse_ops(l->tok[i].text, &bad);
	if (ops == 0)
		return fail(ps, l->tok[i].col,
		            "unknown operation in '%s' (expected read, stat, write, create, remove, exec, all, ro, rw or rx)",
		            l->tok[i].text);
	if (l->n <= i + 1)
		return fail(ps, l->tok[0].col, "'%s' expects at least one pattern after the operations", l->tok[0].text);
	struct ward_policy *p = ps->policy;
	for (i++; i < l->n; i++) {
		char *pattern = expand_as(ps, &l->tok[i], true);
		if (pattern == NULL)
			return false;
		if (!check_pattern(ps, &l->tok[i], pattern)) {
			free(pattern);
			return false;
		}
		p->rule = xrealloc(p->rule, (p->nrules + 1) * sizeof(*p->rule));
		p->rule[p->nrules++] = (struct ward_rule){ ops, deny, quiet, pattern, current_file(ps), ps->line };
	}
	return true;
}

static bool
parse_limit(struct parser *ps, const struct line *l)
{
	static const char *const kinds[] = { "memory", "children", "fds", NULL };
	if (l->n < 2)
		return fail(ps, l->tok[0].col, "'limit' expects memory, children or fds and a value");
	int kind = choose(l->tok[1].text, kinds);
	if (kind < 0)
		return fail(ps, l->tok[1].col, "expected memory, children or fds, got '%s'", l->tok[1].text);
	if (l->n != 3)
		return want_args(ps, l, 3, kind == 0 ? "a size" : "a number");
	uint64_t *target[] = { &ps->policy->limit_memory, &ps->policy->limit_children, &ps->policy->limit_fds };
	static const enum setting which[] = { SET_LIMIT_MEMORY, SET_LIMIT_CHILDREN, SET_LIMIT_FDS };
	uint64_t value = 0;
	if (!parse_count(ps, &l->tok[2], kind == 0, &value))
		return false;
	if (settle(ps, l, which[kind]))
		*target[kind] = value;
	return true;
}

static bool
set_string(struct parser *ps, const struct line *l, enum setting which, char **target)
{
	if (!want_args(ps, l, 2, "one value"))
		return false;
	char *v = expand(ps, &l->tok[1]);
	if (v == NULL)
		return false;
	if (!settle(ps, l, which)) {
		free(v);
		return true;
	}
	free(*target);
	*target = v;
	return true;
}

static bool
parse_include(struct parser *ps, const struct line *l)
{
	if (!want_args(ps, l, 2, "a file name"))
		return false;
	char *name = expand(ps, &l->tok[1]);
	if (name == NULL)
		return false;
	char *path = name;
	if (name[0] != '/') {
		const char *slash = strrchr(ps->file, '/');
		size_t dirlen = slash ? (size_t)(slash - ps->file) + 1 : 0;
		path = xrealloc(NULL, dirlen + strlen(name) + 1);
		memcpy(path, ps->file, dirlen);
		strcpy(path + dirlen, name);
		free(name);
	}
	const char *file = ps->file;
	int line = ps->line;
	bool ok = parse_file(ps, path, l->tok[1].col);
	ps->file = file;
	ps->line = line;
	free(path);
	return ok;
}

static bool
parse_line(struct parser *ps, const struct line *l)
{
	static const char *const modes[] = { "enforce", "audit", "kill", NULL };
	static const char *const allow_deny[] = { "allow", "deny", NULL };
	static const char *const deny_allow[] = { "deny", "allow", NULL };
	static const char *const unconfined[] = { "deny", "audit", "allow", NULL };
	static const char *const on_off[] = { "off", "on", NULL };
	struct ward_policy *p = ps->policy;
	const char *d = l->tok[0].text;
	int v;

	if (strcmp(d, "version") == 0) {
		if (!want_args(ps, l, 2, "1"))
			return false;
		if (strcmp(l->tok[1].text, "1") != 0)
			return fail(ps, l->tok[1].col, "unsupported version '%s' (this ward reads version 1)", l->tok[1].text);
		return true;
	}
	if (strcmp(d, "allow") == 0 || strcmp(d, "deny") == 0)
		return parse_rule(ps, l, d[0] == 'd');
	if (strcmp(d, "include") == 0)
		return parse_include(ps, l);
	if (strcmp(d, "mode") == 0) {
		if (!parse_choice(ps, l, modes, "enforce, audit or kill", &v))
			return false;
		if (settle(ps, l, SET_MODE))
			p->mode = (enum ward_mode)v;
		return true;
	}
	if (strcmp(d, "default") == 0) {
		if (!parse_choice(ps, l, allow_deny, "allow or deny", &v))
			return false;
		if (settle(ps, l, SET_DEFAULT))
			p->default_deny = v == 1;
		return true;
	}
	if (strcmp(d, "limit") == 0)
		return parse_limit(ps, l);
	if (strcmp(d, "memory") == 0) {
		if (l->n < 2 || strcmp(l->tok[1].text, "wx") != 0)
			return fail(ps, l->n < 2 ? l->tok[0].col : l->tok[1].col, "expected 'memory wx deny' or 'memory wx allow'");
		if (l->n != 3)
			return want_args(ps, l, 3, "wx and deny or allow");
		v = choose(l->tok[2].text, deny_allow);
		if (v < 0)
			return fail(ps, l->tok[2].col, "expected deny or allow, got '%s'", l->tok[2].text);
		if (settle(ps, l, SET_WX))
			p->memory_wx_deny = v == 0;
		return true;
	}
	if (strcmp(d, "unconfined-exec") == 0) {
		if (!parse_choice(ps, l, unconfined, "deny, audit or allow", &v))
			return false;
		if (settle(ps, l, SET_UNCONFINED))
			p->unconfined_exec = (enum ward_exec_rule)v;
		return true;
	}
	if (strcmp(d, "log") == 0)
		return set_string(ps, l, SET_LOG, &p->log);
	if (strcmp(d, "stats") == 0)
		return set_string(ps, l, SET_STATS, &p->stats);
	if (strcmp(d, "backtrace") == 0) {
		if (!parse_choice(ps, l, on_off, "on or off", &v))
			return false;
		if (settle(ps, l, SET_BACKTRACE))
			p->backtrace = v;
		return true;
	}
	if (strcmp(d, "strict") == 0) {
		if (!parse_choice(ps, l, on_off, "on or off", &v))
			return false;
		if (settle(ps, l, SET_STRICT))
			p->strict = v == 1;
		return true;
	}
	return fail(ps, l->tok[0].col,
	            "unknown directive '%s' (expected version, mode, default, include, allow, deny, limit, memory, unconfined-exec, log, stats, backtrace or strict)",
	            d);
}

static bool
parse_text(struct parser *ps, const char *text, size_t len)
{
	struct line l = { 0 };
	bool ok = true;
	ps->line = 0;
	for (size_t start = 0; ok && start < len;) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len;
		ps->line++;
		if (memchr(text + start, '\0', end - start) != NULL)
			ok = fail(ps, 1, "NUL byte in policy text");
		else
			ok = tokenize(ps, text + start, end - start, &l) && (l.n == 0 || parse_line(ps, &l));
		start = end + 1;
	}
	line_clear(&l);
	free(l.tok);
	return ok;
}

#define MAX_POLICY_BYTES (16u << 20)

/* A policy is a regular file of sane size: a FIFO, /dev/zero or a
 * directory would never end or never start.  Opened without blocking (a
 * FIFO's open waits for a writer otherwise) and checked before any read.
 * NULL with errno (EINVAL: not a regular file). */
static char *
read_all(const char *path, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return NULL;
	int err = fstat(fd, &st) != 0 ? errno : !S_ISREG(st.st_mode) ? EINVAL : st.st_size > MAX_POLICY_BYTES ? EFBIG : 0;
	size_t cap = err ? 0 : (size_t)st.st_size + 1, n = 0;
	char *buf = err ? NULL : xrealloc(NULL, cap);
	while (err == 0) {
		if (n == cap)
			buf = xrealloc(buf, cap *= 2);
		ssize_t got = read(fd, buf + n, cap - n);
		if (got == 0)
			break;
		if (got < 0 && errno != EINTR)
			err = errno;
		else if (got > 0 && (n += (size_t)got) > MAX_POLICY_BYTES)
			err = EFBIG;
	}
	if (err != 0) {
		close(fd);
		free(buf);
		errno = err;
		return NULL;
	}
	close(fd);
	*len = n;
	return buf;
}

/* Read and parse one file; col is where an include names it (0: top). */
static bool
parse_file(struct parser *ps, const char *path, int col)
{
	char canonical[PATH_MAX];
	size_t len;
	if (ps->depth == MAX_INCLUDE_DEPTH)
		return fail(ps, col, "includes nested more than %d deep", MAX_INCLUDE_DEPTH);
	char *text = realpath(path, canonical) ? read_all(canonical, &len) : NULL;
	if (text == NULL) {
		int err = errno;
		if (col == 0) {
			ps->file = path;
			ps->line = 1;
		}
		return fail(ps, col ? col : 1, "cannot read '%s': %s", path,
		            err == EINVAL ? "not a regular file" : strerror(err));
	}
	for (int i = 0; i < ps->depth; i++) {
		if (strcmp(ps->stack[i], canonical) == 0) {
			free(text);
			return fail(ps, col, "include cycle: '%s' is already being read", path);
		}
	}
	if (col == 0 && len == 0) {
		free(text);
		ps->file = path;
		ps->line = 1;
		return fail(ps, 1, "empty policy (write at least a 'default' or a rule)");
	}
	int includer = ps->file_id;
	ps->file_id = ++ps->next_id;
	ps->stack_id[ps->depth] = ps->file_id;
	ps->stack[ps->depth++] = canonical;
	ps->file = path;
	bool ok = parse_text(ps, text, len);
	ps->depth--;
	ps->file_id = includer;
	free(text);
	return ok;
}

static struct ward_policy *
new_policy(void)
{
	struct ward_policy *p = xrealloc(NULL, sizeof(*p));
	memset(p, 0, sizeof(*p));
	p->mode = WARD_MODE_ENFORCE;
	p->default_deny = true;
	p->unconfined_exec = WARD_UNCONFINED_DENY;
	p->backtrace = -1;
	return p;
}

static struct ward_policy *
finish(struct parser *ps, bool ok)
{
	if (ok)
		return ps->policy;
	ward_policy_free(ps->policy);
	return NULL;
}

struct ward_policy *
ward_policy_load(const char *path, const struct ward_policy_env *env, struct ward_policy_error *error)
{
	struct parser ps = { .policy = new_policy(), .env = env, .error = error, .file = path };
	return finish(&ps, parse_file(&ps, path, 0));
}

struct ward_policy *
ward_policy_parse(const char *name, const char *text, size_t len, const struct ward_policy_env *env,
                  struct ward_policy_error *error)
{
	struct parser ps = { .policy = new_policy(), .env = env, .error = error, .file = name };
	ps.file_id = ps.next_id = 1;
	ps.stack_id[0] = 1;
	ps.stack[ps.depth++] = name;
	return finish(&ps, parse_text(&ps, text, len));
}

void
ward_policy_free(struct ward_policy *p)
{
	if (p == NULL)
		return;
	if (p->image != NULL) { /* rules and strings live in the image's mapping */
		if (p->image_in_storage)
			return;
		munmap(p->image, p->image_size);
		free(p);
		return;
	}
	for (size_t i = 0; i < p->nrules; i++)
		free(p->rule[i].pattern);
	for (size_t i = 0; i < p->nfiles; i++)
		free(p->files[i]);
	for (size_t i = 0; i < p->nwarnings; i++)
		free(p->warning[i]);
	free(p->warning);
	free(p->rule);
	free(p->files);
	free(p->log);
	free(p->stats);
	free(p);
}
