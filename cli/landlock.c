/*
 * landlock.c: the policy as Landlock beneath-rules (landlock.h).
 *
 * Landlock is an allow-list of trees: a ruleset handles a set of rights,
 * and an access that needs a handled right is allowed only below a path
 * a rule grants it on.  So an allow rule becomes a grant on its longest
 * literal prefix (the whole tree: a glob inside a component is narrowed
 * by the shim only); a deny rule is held by the kernel when no grant
 * reaches what it protects, and otherwise by the shim alone; `stat` has
 * no right; `default allow` leaves nothing to handle.  Every choice is in
 * docs/POLICY.md "Strict mode"; the launcher alone runs this (it may
 * allocate), never the shim.
 */
#define _GNU_SOURCE
#include "landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif
#define CREATE_RULESET_VERSION (1U << 0)
#define RULE_PATH_BENEATH 1
#define RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1) /* ABI 7: denials after the exec reach the audit log */

struct ruleset_attr {
	uint64_t handled_access_fs; /* the first field of every ABI's struct: no net, no scopes */
};

struct path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

static const struct {
	uint64_t right;
	const char *name;
} right_names[] = {
	{ WARD_LL_EXECUTE, "execute" },       { WARD_LL_WRITE_FILE, "write_file" },
	{ WARD_LL_READ_FILE, "read_file" },   { WARD_LL_READ_DIR, "read_dir" },
	{ WARD_LL_REMOVE_DIR, "remove_dir" }, { WARD_LL_REMOVE_FILE, "remove_file" },
	{ WARD_LL_MAKE_CHAR, "make_char" },   { WARD_LL_MAKE_DIR, "make_dir" },
	{ WARD_LL_MAKE_REG, "make_reg" },     { WARD_LL_MAKE_SOCK, "make_sock" },
	{ WARD_LL_MAKE_FIFO, "make_fifo" },   { WARD_LL_MAKE_BLOCK, "make_block" },
	{ WARD_LL_MAKE_SYM, "make_sym" },     { WARD_LL_REFER, "refer" },
	{ WARD_LL_TRUNCATE, "truncate" },     { WARD_LL_IOCTL_DEV, "ioctl_dev" },
};

uint64_t
ward_landlock_abi_rights(int abi)
{
	if (abi < 1)
		return 0;
	uint64_t r = (WARD_LL_MAKE_SYM << 1) - 1; /* ABI 1: execute .. make_sym */
	if (abi >= 2)
		r |= WARD_LL_REFER;
	if (abi >= 3)
		r |= WARD_LL_TRUNCATE;
	if (abi >= 5)
		r |= WARD_LL_IOCTL_DEV;
	return r;
}

/* What an operation needs from the kernel, all of it: the mapping never
 * makes the kernel refuse what the operation allows (docs/POLICY.md). */
uint64_t
ward_landlock_op_rights(unsigned int op)
{
	uint64_t r = 0;
	if (op & WARD_OP_READ)   /* a device opened for reading may be ioctl'd, as under the shim */
		r |= WARD_LL_READ_FILE | WARD_LL_READ_DIR | WARD_LL_IOCTL_DEV;
	if (op & WARD_OP_WRITE)  /* refer: a hard link's existing file may be in another directory */
		r |= WARD_LL_WRITE_FILE | WARD_LL_TRUNCATE | WARD_LL_IOCTL_DEV | WARD_LL_REFER;
	if (op & WARD_OP_CREATE) /* O_CREAT of a new file opens it for writing; rename/link across directories */
		r |= WARD_LL_MAKE_ALL | WARD_LL_REFER | WARD_LL_WRITE_FILE;
	if (op & WARD_OP_REMOVE)
		r |= WARD_LL_REMOVE_FILE | WARD_LL_REMOVE_DIR | WARD_LL_REFER;
	if (op & WARD_OP_EXEC)   /* the kernel opens a program for reading to run it */
		r |= WARD_LL_EXECUTE | WARD_LL_READ_FILE;
	return r;
}

/* The rights that make an operation what it is (what a deny protects). */
static uint64_t
op_primary_rights(unsigned int op)
{
	uint64_t r = 0;
	if (op & WARD_OP_READ)
		r |= WARD_LL_READ_FILE | WARD_LL_READ_DIR;
	if (op & WARD_OP_WRITE)
		r |= WARD_LL_WRITE_FILE | WARD_LL_TRUNCATE;
	if (op & WARD_OP_CREATE)
		r |= WARD_LL_MAKE_ALL;
	if (op & WARD_OP_REMOVE)
		r |= WARD_LL_REMOVE_FILE | WARD_LL_REMOVE_DIR;
	if (op & WARD_OP_EXEC)
		r |= WARD_LL_EXECUTE;
	return r;
}

void
ward_landlock_rights_name(uint64_t access, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(right_names) / sizeof(right_names[0]); i++) {
		if (!(access & right_names[i].right))
			continue;
		int w = snprintf(out + n, cap - n, "%s%s", n ? "," : "", right_names[i].name);
		if (w < 0 || (size_t)w >= cap - n)
			return;
		n += (size_t)w;
	}
}

/* ---- patterns and the file system ---- */

enum shape {
	SHAPE_LITERAL, /* no wildcard: names one path */
	SHAPE_TREE,    /* PREFIX followed by a whole-component double star: the tree itself */
	SHAPE_GLOB,    /* a wildcard elsewhere: the tree PREFIX is wider */
};

/* The components before the first that holds a wildcard, into out. */
static enum shape
literal_prefix(const char *pattern, char *out, size_t cap)
{
	const char *glob = strpbrk(pattern, "*?");
	if (glob == NULL) {
		snprintf(out, cap, "%s", pattern);
		return SHAPE_LITERAL;
	}
	size_t n = (size_t)(glob - pattern);
	while (n > 0 && pattern[n - 1] != '/')
		n--;
	if (n > 1)
		n--; /* drop the '/' before the component, except the root's */
	snprintf(out, cap, "%.*s", (int)n, pattern);
	bool tree = strcmp(glob, "**") == 0 && glob[-1] == '/';
	return tree ? SHAPE_TREE : SHAPE_GLOB;
}

/* Does pattern match path and everything below it? */
static bool
covers_tree(const char *pattern, const char *path)
{
	size_t n = strlen(pattern);
	if (n < 3 || strcmp(pattern + n - 3, "/**") != 0)
		return false;
	n -= 3; /* the tree's root; "" for the whole file system */
	if (memchr(pattern, '*', n) != NULL || memchr(pattern, '?', n) != NULL)
		return false;
	if (n == 0)
		return true;
	return strncmp(path, pattern, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

enum state { EXISTS, MISSING, SYMLINKED };

/* Does path exist as itself (no symlink on the way: the shim decides on
 * canonical paths, so a rule through a link names only the link)? */
static enum state
path_state(const char *path, bool *directory)
{
	struct stat st;
	char real[PATH_MAX];
	if (lstat(path, &st) != 0)
		return errno == ENOENT || errno == ENOTDIR ? MISSING : SYMLINKED;
	if (realpath(path, real) == NULL || strcmp(real, path) != 0)
		return SYMLINKED;
	*directory = S_ISDIR(st.st_mode);
	return EXISTS;
}

static char *
parent_of(const char *path)
{
	char *p = strdup(path);
	if (p == NULL)
		return NULL;
	char *slash = strrchr(p, '/');
	if (slash == p)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	return p;
}

/* ---- the plan ---- */

struct builder {
	struct ward_landlock_plan *plan;
	const struct ward_policy *policy;
	const struct ward_matcher *matcher;
	size_t cap_rules, cap_create;
	size_t *index, nindex; /* planned paths by hash: rule number + 1, 0 free (nindex a power of 2) */
	size_t *denies, ndenies; /* the policy's deny rules, in order */
	bool failed;
};

static size_t
path_hash(const char *path)
{
	size_t h = 14695981039346656037ull;
	for (; *path; path++)
		h = (h ^ (unsigned char)*path) * 1099511628211ull;
	return h;
}

/* The slot of path in the index: its rule's, or the free one it would take. */
static size_t *
index_slot(struct builder *b, const char *path)
{
	size_t mask = b->nindex - 1, at = path_hash(path) & mask;
	while (b->index[at] != 0 && strcmp(b->plan->rule[b->index[at] - 1].path, path) != 0)
		at = (at + 1) & mask;
	return &b->index[at];
}

/* Room for one more planned path (kept at most half full). */
static bool
index_grow(struct builder *b)
{
	if (2 * (b->plan->nrules + 1) <= b->nindex)
		return true;
	size_t n = b->nindex ? 2 * b->nindex : 64;
	size_t *old = b->index, nold = b->nindex;
	if ((b->index = calloc(n, sizeof(*b->index))) == NULL) {
		b->index = old;
		return false;
	}
	b->nindex = n;
	for (size_t i = 0; i < nold; i++)
		if (old[i] != 0)
			*index_slot(b, b->plan->rule[old[i] - 1].path) = old[i];
	free(old);
	return true;
}

static void
add_rule(struct builder *b, const char *path, uint64_t access, bool directory, int origin, const char *extra)
{
	struct ward_landlock_plan *plan = b->plan;
	access &= plan->handled;
	if (!directory)
		access &= WARD_LL_FILE_RIGHTS;
	if (access == 0)
		return;
	if (!index_grow(b)) {
		b->failed = true;
		return;
	}
	size_t *slot = index_slot(b, path);
	if (*slot != 0) {
		plan->rule[*slot - 1].access |= access;
		return;
	}
	if (plan->nrules == b->cap_rules) {
		size_t cap = b->cap_rules ? 2 * b->cap_rules : 16;
		void *grown = realloc(plan->rule, cap * sizeof(*plan->rule));
		if (grown == NULL) {
			b->failed = true;
			return;
		}
		plan->rule = grown;
		b->cap_rules = cap;
	}
	char *copy = strdup(path);
	if (copy == NULL) {
		b->failed = true;
		return;
	}
	plan->rule[plan->nrules++] = (struct ward_landlock_rule){ copy, access, directory, origin, extra };
	*slot = plan->nrules;
}

static void
add_create(struct builder *b, const char *dir)
{
	struct ward_landlock_plan *plan = b->plan;
	for (size_t i = 0; i < plan->ncreate; i++)
		if (strcmp(plan->create[i], dir) == 0)
			return;
	if (plan->ncreate == b->cap_create) {
		size_t cap = b->cap_create ? 2 * b->cap_create : 8;
		void *grown = realloc(plan->create, cap * sizeof(char *));
		if (grown == NULL) {
			b->failed = true;
			return;
		}
		plan->create = grown;
		b->cap_create = cap;
	}
	if ((plan->create[plan->ncreate] = strdup(dir)) == NULL)
		b->failed = true;
	else
		plan->ncreate++;
}

/*
 * path is missing.  Nothing of the tree can make it exist unless the
 * policy allows `create` on each missing component (on the last too when
 * upto_last): then the missing directories before it (all of them when
 * make_last) are made before the run, so the kernel rule has a directory
 * to bind to.  false: the tree can never make it (no kernel rule needed).
 */
static bool
make_reachable(struct builder *b, const char *path, bool upto_last, bool make_last)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	size_t len = strlen(buf), existing = len;
	bool directory = false;
	while (existing > 1) { /* the nearest existing ancestor */
		while (existing > 1 && buf[existing - 1] != '/')
			existing--;
		existing = existing > 1 ? existing - 1 : 1;
		char saved = buf[existing];
		buf[existing] = '\0';
		enum state st = path_state(buf, &directory);
		buf[existing] = saved;
		if (st == SYMLINKED || (st == EXISTS && !directory))
			return false;
		if (st == EXISTS)
			break;
	}
	/* each missing component, from the first: may the tree create it? */
	for (size_t end = existing + (existing > 1 ? 1 : 0); end <= len;) {
		while (end < len && buf[end] != '/')
			end++;
		char saved = buf[end];
		buf[end] = '\0';
		bool last = end == len;
		if ((!last || upto_last) && !ward_matcher_decide(b->matcher, WARD_OP_CREATE, buf).allow) {
			buf[end] = saved;
			return false;
		}
		buf[end] = saved;
		end++;
	}
	for (size_t end = existing + (existing > 1 ? 1 : 0); end <= len;) {
		while (end < len && buf[end] != '/')
			end++;
		bool last = end == len;
		if (last && !make_last)
			break;
		char saved = buf[end];
		buf[end] = '\0';
		add_create(b, buf);
		buf[end] = saved;
		end++;
	}
	return true;
}

/* The operations of an allow rule that no deny takes away from the whole
 * tree at path (deny beats allow: those are refused everywhere there). */
static unsigned int
ops_left(const struct builder *b, unsigned int ops, const char *path, bool directory)
{
	for (size_t k = 0; k < b->ndenies; k++) { /* the deny rules only: usually few */
		const struct ward_rule *d = &b->policy->rule[b->denies[k]];
		if (covers_tree(d->pattern, path) || (!directory && strcmp(d->pattern, path) == 0))
			ops &= ~d->ops;
	}
	return ops;
}

static struct ward_landlock_verdict
plan_allow(struct builder *b, int index)
{
	const struct ward_rule *r = &b->policy->rule[index];
	char prefix[PATH_MAX];
	enum shape shape = literal_prefix(r->pattern, prefix, sizeof(prefix));
	unsigned int ops = r->ops & ~WARD_OP_STAT;
	if (ops == 0)
		return (struct ward_landlock_verdict){ WARD_LL_SHIM_ONLY, "stat: Landlock has no right for it" };
	bool directory = false;
	enum state st = path_state(prefix, &directory);
	const char *why = NULL;
	enum ward_landlock_backing backing = WARD_LL_KERNEL;
	if (st == SYMLINKED)
		return (struct ward_landlock_verdict){ WARD_LL_SHIM_ONLY,
			                               "a symbolic link on the way: the shim decides where it leads" };
	if (st == MISSING && shape != SHAPE_LITERAL) {
		if (!make_reachable(b, prefix, true, true))
			return (struct ward_landlock_verdict){ WARD_LL_KERNEL,
				                               "missing, and the policy lets nothing create it: no grant" };
		directory = true;
		why = "missing at the start: made before the run (the policy lets the run create it)";
	} else if (st == MISSING) {
		if (!make_reachable(b, prefix, true, false))
			return (struct ward_landlock_verdict){ WARD_LL_KERNEL,
				                               "missing, and the policy lets nothing create it: no grant" };
		char *parent = parent_of(prefix);
		if (parent == NULL) {
			b->failed = true;
			return (struct ward_landlock_verdict){ WARD_LL_SHIM_ONLY, "out of memory" };
		}
		snprintf(prefix, sizeof(prefix), "%s", parent);
		free(parent);
		directory = true;
		backing = WARD_LL_WIDENED;
		why = "missing at the start: granted on its directory (Landlock grants no single new name)";
	}
	if (shape == SHAPE_GLOB) {
		backing = WARD_LL_WIDENED;
		why = "a wildcard inside the tree: the kernel grants the whole literal prefix, the shim narrows";
	} else if (shape == SHAPE_LITERAL && st == EXISTS && directory) {
		backing = WARD_LL_WIDENED;
		why = "a directory: the kernel grants its whole tree, the shim narrows to the directory";
	}
	unsigned int left = ops_left(b, ops, prefix, directory);
	if (left == 0)
		return (struct ward_landlock_verdict){ WARD_LL_KERNEL, "a deny takes it all back: no grant" };
	add_rule(b, prefix, ward_landlock_op_rights(left), directory, index, NULL);
	return (struct ward_landlock_verdict){ backing, why };
}

/* A deny is the kernel's when no grant for what it protects reaches its
 * paths; otherwise only the shim can refuse it. */
static struct ward_landlock_verdict
plan_deny(struct builder *b, int index)
{
	const struct ward_rule *d = &b->policy->rule[index];
	uint64_t protects = op_primary_rights(d->ops) & b->plan->handled;
	if (protects == 0)
		return (struct ward_landlock_verdict){ WARD_LL_SHIM_ONLY, "stat: Landlock has no right for it" };
	for (size_t i = 0; i < b->plan->nrules; i++) {
		const struct ward_landlock_rule *k = &b->plan->rule[i];
		if (!(k->access & protects) || !ward_glob_match_at_or_below(d->pattern, k->path))
			continue;
		return (struct ward_landlock_verdict){ WARD_LL_SHIM_ONLY, k->origin < 0 ? "inside a tree ward grants for its own files"
			                                                                 : "deny inside an allowed tree" };
	}
	return (struct ward_landlock_verdict){ WARD_LL_KERNEL, NULL };
}

bool
ward_landlock_plan(const struct ward_policy *policy, const struct ward_matcher *matcher, int abi,
                   const struct ward_landlock_extra *extra, size_t nextra, struct ward_landlock_plan *out)
{
	memset(out, 0, sizeof(*out));
	out->abi = abi;
	out->verdict = calloc(policy->nrules ? policy->nrules : 1, sizeof(*out->verdict));
	if (out->verdict == NULL)
		return false;
	struct builder b = { .plan = out, .policy = policy, .matcher = matcher };
	if (!policy->default_deny) {
		for (size_t i = 0; i < policy->nrules; i++)
			out->verdict[i] = (struct ward_landlock_verdict){
				WARD_LL_SHIM_ONLY, "default allow: Landlock only lists what is allowed"
			};
		return true; /* nothing handled: the kernel adds nothing (no index made) */
	}
	out->handled = ward_landlock_abi_rights(abi);
	if ((b.denies = calloc(policy->nrules ? policy->nrules : 1, sizeof(*b.denies))) == NULL) {
		ward_landlock_plan_free(out);
		return false;
	}
	for (size_t i = 0; i < policy->nrules; i++)
		if (policy->rule[i].deny)
			b.denies[b.ndenies++] = i;
	for (size_t i = 0; i < policy->nrules; i++)
		if (!policy->rule[i].deny)
			out->verdict[i] = plan_allow(&b, (int)i);
	for (size_t i = 0; i < nextra; i++) {
		bool directory = false;
		if (path_state(extra[i].path, &directory) == MISSING)
			continue;
		char real[PATH_MAX];
		if (realpath(extra[i].path, real) == NULL)
			continue;
		add_rule(&b, real, extra[i].access, directory, -1, extra[i].why);
	}
	for (size_t i = 0; i < policy->nrules; i++)
		if (policy->rule[i].deny)
			out->verdict[i] = plan_deny(&b, (int)i);
	for (size_t i = 0; i < policy->nrules; i++)
		if (out->verdict[i].backing != WARD_LL_SHIM_ONLY)
			out->backed++;
	free(b.index);
	free(b.denies);
	if (b.failed) {
		ward_landlock_plan_free(out);
		return false;
	}
	return true;
}

void
ward_landlock_plan_free(struct ward_landlock_plan *plan)
{
	for (size_t i = 0; i < plan->nrules; i++)
		free(plan->rule[i].path);
	for (size_t i = 0; i < plan->ncreate; i++)
		free(plan->create[i]);
	free(plan->rule);
	free(plan->create);
	free(plan->verdict);
	memset(plan, 0, sizeof(*plan));
}

/* ---- the kernel ---- */

int
ward_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, CREATE_RULESET_VERSION);
	return abi < 0 ? -errno : (int)abi;
}

int
ward_landlock_ruleset(const struct ward_landlock_plan *plan, char *err, size_t cap)
{
	for (size_t i = 0; i < plan->ncreate; i++) {
		if (mkdir(plan->create[i], 0777) != 0 && errno != EEXIST) {
			snprintf(err, cap, "cannot make %s: %s", plan->create[i], strerror(errno));
			return -1;
		}
	}
	struct ruleset_attr attr = { .handled_access_fs = plan->handled };
	int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0) {
		snprintf(err, cap, "landlock_create_ruleset: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < plan->nrules; i++) {
		const struct ward_landlock_rule *r = &plan->rule[i];
		int at = open(r->path, O_PATH | O_CLOEXEC);
		if (at < 0) {
			snprintf(err, cap, "%s: %s", r->path, strerror(errno));
			close(fd);
			return -1;
		}
		struct path_beneath_attr beneath = { .allowed_access = r->access, .parent_fd = at };
		struct stat st;
		if (fstat(at, &st) == 0 && !S_ISDIR(st.st_mode))
			beneath.allowed_access &= WARD_LL_FILE_RIGHTS; /* it changed since the plan */
		long ok = beneath.allowed_access == 0 ? 0 : syscall(SYS_landlock_add_rule, fd, RULE_PATH_BENEATH, &beneath, 0);
		int e = errno;
		close(at);
		if (ok != 0) {
			snprintf(err, cap, "landlock_add_rule %s: %s", r->path, strerror(e));
			close(fd);
			return -1;
		}
	}
	return fd;
}

int
ward_landlock_restrict(int fd, int abi)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	unsigned int flags = abi >= 7 ? RESTRICT_SELF_LOG_NEW_EXEC_ON : 0;
	if (syscall(SYS_landlock_restrict_self, fd, flags) != 0) {
		if (errno != EINVAL || flags == 0 || syscall(SYS_landlock_restrict_self, fd, 0) != 0)
			return -errno;
	}
	return 0;
}
