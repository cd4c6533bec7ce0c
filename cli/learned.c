/*
 * learned.c: fold a command's needs into policy rules (learned.h).
 *
 * Needs are kept as (path, operations) pairs.  Writing folds each
 * operation's paths on its own (the rules differ: reads may cover a whole
 * system tree, writes never), then merges equal patterns across
 * operations and writes one group per set of operations.
 */
#define _GNU_SOURCE
#include "learned.h"

#include <fnmatch.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

struct need {
	char *path;
	unsigned int ops;      /* what the rules allow */
	unsigned int recorded; /* what the records asked for */
};

struct list {
	char **s;
	size_t n, cap;
};

struct ward_learned {
	struct ward_learn_env env;
	struct need *need;
	size_t n, cap;
	bool sorted;
	struct list templates; /* "/tmp/cc*.s" for each mkstemp template "/tmp/ccXXXXXX.s" seen */
};

enum kind { KIND_READ, KIND_WRITE, KIND_EXEC };

static void *
must(void *p)
{
	if (p == NULL) {
		fputs("ward: out of memory learning a policy\n", stderr);
		exit(125);
	}
	return p;
}

static void
list_add(struct list *l, char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->s = must(realloc(l->s, l->cap * sizeof(char *)));
	}
	l->s[l->n++] = s;
}

static void
list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->s[i]);
	free(l->s);
	l->s = NULL;
	l->n = l->cap = 0;
}

static int
by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
list_unique(struct list *l)
{
	qsort(l->s, l->n, sizeof(char *), by_string);
	size_t k = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (k > 0 && strcmp(l->s[k - 1], l->s[i]) == 0)
			free(l->s[i]);
		else
			l->s[k++] = l->s[i];
	}
	l->n = k;
}

static char *
joined(const char *a, const char *b)
{
	char *s;
	if (asprintf(&s, "%s%s", a, b) < 0)
		must(NULL);
	return s;
}

/* ---- paths ---- */

/* path is dir or below it. */
static bool
under(const char *path, const char *dir)
{
	if (dir == NULL || dir[0] == '\0')
		return false;
	size_t n = strlen(dir);
	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool
strictly_under(const char *path, const char *dir)
{
	return under(path, dir) && strcmp(path, dir) != 0;
}

static int
depth_of(const char *path)
{
	int d = 0;
	for (const char *s = path; *s; s++)
		d += *s == '/';
	return strcmp(path, "/") == 0 ? 0 : d;
}

/* A pattern's directory part: /a for both /a and the tree /a/<**>. */
static char *
base_of(const char *pattern)
{
	size_t n = strlen(pattern);
	if (n > 3 && strcmp(pattern + n - 3, "/**") == 0)
		n -= 3;
	return must(strndup(pattern, n));
}

static const char *
system_tree(const char *path)
{
	static const char *const trees[] = { "/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin",
		                             "/etc", "/opt", "/proc", "/sys", "/dev/pts" };
	for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++)
		if (under(path, trees[i]))
			return trees[i];
	return NULL;
}

/* ---- needs ---- */

struct ward_learned *
ward_learned_new(const struct ward_learn_env *env)
{
	struct ward_learned *l = must(calloc(1, sizeof(*l)));
	l->env = *env;
	return l;
}

void
ward_learned_free(struct ward_learned *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->need[i].path);
	free(l->need);
	list_free(&l->templates);
	free(l);
}

void
ward_learned_add(struct ward_learned *l, unsigned int ops, const char *path)
{
	if (ops == 0 || path[0] != '/')
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->need = must(realloc(l->need, l->cap * sizeof(*l->need)));
	}
	l->need[l->n++] = (struct need){ must(strdup(path)), ops, ops };
	l->sorted = false;
}

static int
by_path(const void *a, const void *b)
{
	return strcmp(((const struct need *)a)->path, ((const struct need *)b)->path);
}

static void
merge_needs(struct ward_learned *l)
{
	if (l->sorted)
		return;
	qsort(l->need, l->n, sizeof(*l->need), by_path);
	size_t k = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (k > 0 && strcmp(l->need[k - 1].path, l->need[i].path) == 0) {
			l->need[k - 1].ops |= l->need[i].ops;
			l->need[k - 1].recorded |= l->need[i].recorded;
			free(l->need[i].path);
		} else
			l->need[k++] = l->need[i];
	}
	l->n = k;
	for (size_t i = 0; i < l->n; i++) /* its own products: a second run rewrites or removes them */
		if (l->need[i].ops & WARD_OP_CREATE)
			l->need[i].ops |= WARD_OP_WRITE | WARD_OP_REMOVE;
	l->sorted = true;
}

static const struct need *
need_of(const struct ward_learned *l, const char *path)
{
	struct need key = { (char *)path, 0, 0 };
	return bsearch(&key, l->need, l->n, sizeof(*l->need), by_path);
}

static unsigned int
ops_of(const struct ward_learned *l, const char *path)
{
	const struct need *n = need_of(l, path);
	return n ? n->ops : 0;
}

/* ---- folding ---- */

/* May dir become the tree pattern dir/<**> for this kind of operation (learned.h)? */
static bool
may_fold(const struct ward_learned *l, const char *dir, enum kind kind)
{
	const struct ward_learn_env *e = &l->env;
	if (depth_of(dir) <= 1 || under(e->tmpdir, dir) || (e->home && under(e->home, dir)) ||
	    strictly_under(e->cwd, dir))
		return false;
	if (kind == KIND_READ)
		return true;
	if (kind == KIND_EXEC)
		return under(dir, e->cwd);
	return under(dir, e->cwd) || (e->home && strictly_under(dir, e->home)) || strictly_under(dir, e->tmpdir) ||
	       ((ops_of(l, dir) & WARD_OP_CREATE) && !system_tree(dir));
}

/* Is dir inside a pattern already folded into a tree? */
static bool
covered(const struct list *items, const char *dir)
{
	for (size_t i = 0; i < items->n; i++) {
		size_t n = strlen(items->s[i]);
		if (n > 3 && strcmp(items->s[i] + n - 3, "/**") == 0) {
			char *base = base_of(items->s[i]);
			bool in = under(dir, base);
			free(base);
			if (in)
				return true;
		}
	}
	return false;
}

/* Distinct names directly in dir that items use (at any depth). */
static size_t
children_used(const struct list *items, const char *dir)
{
	struct list names = { 0 };
	size_t dlen = strcmp(dir, "/") == 0 ? 0 : strlen(dir);
	for (size_t i = 0; i < items->n; i++) {
		const char *s = items->s[i];
		if (strictly_under(s, dir))
			list_add(&names, must(strndup(s + dlen + 1, strcspn(s + dlen + 1, "/"))));
	}
	list_unique(&names);
	size_t count = names.n;
	list_free(&names);
	return count;
}

static void
fold_into(struct list *items, const char *dir)
{
	size_t k = 0;
	for (size_t i = 0; i < items->n; i++) {
		if (under(items->s[i], dir))
			free(items->s[i]);
		else
			items->s[k++] = items->s[i];
	}
	items->n = k;
	list_add(items, joined(dir, "/**"));
	list_unique(items);
}

static int
deepest_first(const void *a, const void *b)
{
	int da = depth_of(*(char *const *)a), db = depth_of(*(char *const *)b);
	return da != db ? db - da : by_string(a, b);
}

/* Every directory above an item, deepest first. */
static void
candidate_dirs(const struct list *items, struct list *dirs)
{
	for (size_t i = 0; i < items->n; i++) {
		char *base = base_of(items->s[i]);
		for (char *slash = strrchr(base, '/'); slash != NULL && slash != base; slash = strrchr(base, '/')) {
			*slash = '\0';
			list_add(dirs, must(strdup(base)));
		}
		free(base);
	}
	list_unique(dirs);
	qsort(dirs->s, dirs->n, sizeof(char *), deepest_first);
}

static void
fold_general(const struct ward_learned *l, struct list *items, enum kind kind)
{
	struct list dirs = { 0 };
	list_unique(items);
	candidate_dirs(items, &dirs);
	for (size_t i = 0; i < dirs.n; i++) {
		const char *d = dirs.s[i];
		if (!may_fold(l, d, kind) || covered(items, d))
			continue;
		bool made = kind == KIND_WRITE && (ops_of(l, d) & WARD_OP_CREATE);
		if (made || children_used(items, d) >= WARD_LEARN_FOLD)
			fold_into(items, d);
	}
	list_free(&dirs);
}

static bool
is_temporary_dir(const struct ward_learned *l, const char *dir)
{
	return strcmp(dir, l->env.tmpdir) == 0 || strcmp(dir, "/tmp") == 0 || strcmp(dir, "/var/tmp") == 0 ||
	       strcmp(dir, "/dev/shm") == 0;
}

/* A template seen in a record (ccXXXXXX.s: a program's own name that looks
 * like one) and the real names made from it (ccAb12Xy.s) become the
 * template's glob.  (mkstemp's own records name the file made, and are
 * folded as temporaries: temporary_pattern.) */
static void
find_templates(struct ward_learned *l)
{
	list_free(&l->templates);
	for (size_t i = 0; i < l->n; i++) {
		const char *p = l->need[i].path, *slash = strrchr(p, '/');
		const char *x = slash ? strstr(slash, "XXXXXX") : NULL;
		if (x == NULL)
			continue;
		size_t run = strspn(x, "X");
		char *glob;
		if (asprintf(&glob, "%.*s*%s", (int)(x - p), p, x + run) < 0)
			must(NULL);
		list_add(&l->templates, glob);
	}
	list_unique(&l->templates);
}

static char *
template_glob(const struct ward_learned *l, const char *path)
{
	for (size_t i = 0; i < l->templates.n; i++)
		if (fnmatch(l->templates.s[i], path, FNM_PATHNAME | FNM_PERIOD) == 0)
			return must(strdup(l->templates.s[i]));
	return NULL;
}

/* "$TMPDIR/cc*" for a temporary: its name's leading lower-case letters
 * (two or three) before the random part; NULL when it has none. */
static char *
temporary_pattern(const struct ward_learned *l, const char *path)
{
	const char *slash = strrchr(path, '/');
	const struct need *need = need_of(l, path);
	unsigned int ops = need ? need->recorded : 0;
	if (slash == NULL || slash == path || (ops & (WARD_OP_CREATE | WARD_OP_REMOVE)) != (WARD_OP_CREATE | WARD_OP_REMOVE))
		return NULL;
	char *dir = must(strndup(path, (size_t)(slash - path)));
	const char *name = slash + 1;
	size_t n = 0;
	while (n < 3 && name[n] >= 'a' && name[n] <= 'z')
		n++;
	char *pattern = NULL;
	if (is_temporary_dir(l, dir) && n >= 2 && name[n] != '\0' && asprintf(&pattern, "%s/%.*s*", dir, (int)n, name) < 0)
		must(NULL);
	free(dir);
	return pattern;
}

/* Temporaries whose 3-letter prefixes share their first two letters with
 * another's are one family: "cca*" and "ccB..." both become "cc*". */
static void
merge_prefixes(struct list *items)
{
	list_unique(items);
	for (size_t i = 0; i + 1 < items->n; i++) {
		char *a = items->s[i], *b = items->s[i + 1];
		size_t la = strlen(a), lb = strlen(b);
		if (la < 3 || a[la - 1] != '*' || b[lb - 1] != '*' || la != lb || strncmp(a, b, la - 2) != 0)
			continue;
		a[la - 2] = '*';
		a[la - 1] = '\0';
		b[lb - 2] = '*';
		b[lb - 1] = '\0';
	}
	list_unique(items);
}

/* The patterns for one operation. */
static void
fold_op(const struct ward_learned *l, unsigned int op, struct list *out)
{
	enum kind kind = op == WARD_OP_EXEC ? KIND_EXEC : (op & (WARD_OP_READ | WARD_OP_STAT)) ? KIND_READ : KIND_WRITE;
	bool temporaries = false;
	for (size_t i = 0; i < l->n; i++) {
		const char *p = l->need[i].path;
		if (!(l->need[i].ops & op))
			continue;
		const char *tree = kind == KIND_READ ? system_tree(p) : NULL;
		char *temporary = template_glob(l, p);
		if (temporary == NULL && kind != KIND_EXEC) /* mkstemp's file is read and written under its name */
			temporary = temporary_pattern(l, p);
		if (tree != NULL)
			list_add(out, joined(tree, "/**"));
		else if (kind == KIND_READ && under(p, l->env.cwd) && may_fold(l, l->env.cwd, KIND_READ))
			list_add(out, joined(l->env.cwd, "/**"));
		else if (temporary != NULL) {
			list_add(out, temporary);
			temporaries = true;
			continue;
		} else
			list_add(out, must(strdup(p)));
		free(temporary);
	}
	if (temporaries)
		merge_prefixes(out);
	fold_general(l, out, kind);
}

/* ---- writing ---- */

struct rule {
	char *pattern;
	unsigned int ops;
};

static int
by_group(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;
	const unsigned int change = WARD_OP_WRITE | WARD_OP_CREATE | WARD_OP_REMOVE;
	int cx = (x->ops & change) != 0, cy = (y->ops & change) != 0;
	int ex = (x->ops & WARD_OP_EXEC) != 0, ey = (y->ops & WARD_OP_EXEC) != 0;
	if (cx != cy)
		return cx - cy;
	if (ex != ey)
		return ex - ey;
	if (x->ops != y->ops)
		return x->ops < y->ops ? 1 : -1;
	return strcmp(x->pattern, y->pattern);
}

static int
by_pattern(const void *a, const void *b)
{
	return strcmp(((const struct rule *)a)->pattern, ((const struct rule *)b)->pattern);
}

static void
ops_text(unsigned int ops, char *out, size_t cap)
{
	static const char *const names[] = { "read", "stat", "write", "create", "remove", "exec" };
	const unsigned int ro = WARD_OP_READ | WARD_OP_STAT, rw = ro | WARD_OP_WRITE | WARD_OP_CREATE | WARD_OP_REMOVE;
	size_t n = 0;
	out[0] = '\0';
	if (ops == WARD_OP_ALL || ops == rw || ops == (ro | WARD_OP_EXEC)) {
		snprintf(out, cap, "%s", ops == WARD_OP_ALL ? "all" : ops == rw ? "rw" : "rx");
		return;
	}
	if ((ops & ro) == ro) {
		n += (size_t)snprintf(out, cap, "ro");
		ops &= ~ro;
	}
	for (unsigned int i = 0; i < 6; i++)
		if (ops & (1u << i))
			n += (size_t)snprintf(out + n, cap > n ? cap - n : 0, "%s%s", n ? "," : "", names[i]);
}

static void
heading(unsigned int ops, FILE *out)
{
	static const char *const verbs[] = { "read", "looked at (stat)", "changed", "created", "removed", "ran" };
	fputs("\n# What the command ", out);
	const char *sep = "";
	for (unsigned int i = 0; i < 6; i++) {
		if (ops & (1u << i)) {
			fprintf(out, "%s%s", sep, verbs[i]);
			sep = ", ";
		}
	}
	fputs(":\n", out);
}

void
ward_learned_token(const struct ward_learn_env *env, const char *path, char *out, size_t cap)
{
	const char *names[] = { "$CWD", "$HOME", "$TMPDIR" };
	const char *values[] = { env->cwd, env->home, env->tmpdir };
	const char *var = "", *rest = path;
	size_t best = 0;
	for (size_t i = 0; i < 3; i++) {
		size_t n = values[i] ? strlen(values[i]) : 0;
		if (n > 1 && n > best && under(path, values[i])) {
			best = n;
			var = names[i];
			rest = path + n;
		}
	}
	bool quote = strpbrk(rest, " \t\"") != NULL;
	size_t k = (size_t)snprintf(out, cap, "%s%s", quote ? "\"" : "", var);
	for (const char *s = rest; *s && k + 3 < cap; s++) {
		if (quote && (*s == '"' || *s == '\\'))
			out[k++] = '\\';
		out[k++] = *s == '$' ? '?' : *s; /* a literal $ cannot be written: any one character */
	}
	if (quote && k + 1 < cap)
		out[k++] = '"';
	out[k < cap ? k : cap - 1] = '\0';
}

static size_t
collect_rules(struct ward_learned *l, struct rule **out)
{
	struct rule *rule = NULL;
	size_t n = 0, cap = 0;
	for (unsigned int bit = 0; bit < 6; bit++) {
		struct list patterns = { 0 };
		fold_op(l, 1u << bit, &patterns);
		for (size_t i = 0; i < patterns.n; i++) {
			if (n == cap)
				rule = must(realloc(rule, (cap = cap ? 2 * cap : 64) * sizeof(*rule)));
			rule[n++] = (struct rule){ patterns.s[i], 1u << bit };
		}
		free(patterns.s);
	}
	/* one rule per pattern, with every operation it was folded for */
	qsort(rule, n, sizeof(*rule), by_pattern);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && strcmp(rule[k - 1].pattern, rule[i].pattern) == 0) {
			rule[k - 1].ops |= rule[i].ops;
			free(rule[i].pattern);
		} else
			rule[k++] = rule[i];
	}
	*out = rule;
	return k;
}

size_t
ward_learned_write(struct ward_learned *l, FILE *out)
{
	struct rule *rule;
	merge_needs(l);
	find_templates(l);
	size_t n = collect_rules(l, &rule);
	qsort(rule, n, sizeof(*rule), by_group);
	char ops[64], token[8192];
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || rule[i].ops != rule[i - 1].ops)
			heading(rule[i].ops, out);
		ops_text(rule[i].ops, ops, sizeof(ops));
		ward_learned_token(&l->env, rule[i].pattern, token, sizeof(token));
		fprintf(out, "allow %-6s %s\n", ops, token);
		free(rule[i].pattern);
	}
	free(rule);
	return n;
}
