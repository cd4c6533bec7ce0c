/*
 * strict.c: `ward run --strict`, `strict on` and `ward check --strict`
 * (SPEC 5.6): the launcher's side of the kernel layer.
 *
 * Before CMD starts, the tree's policy is compiled into a Landlock plan
 * (landlock.c) with ward's own files added (the library every process
 * preloads, the compiled policy, the shared figures, the records and log
 * files, the dynamic loader), the plan's first line goes to stderr, and
 * the ruleset is built in the launcher, so that the child has only two
 * system calls left to make just before it execs CMD: no_new_privs and
 * landlock_restrict_self.  A kernel without Landlock is error 125, never a
 * silent run without it.  WARD_STRICT=1 tells the tree's shim that the
 * kernel holds it (its unconfined-exec records say so).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "landlock.h"
#include "program.h"

#define FIRST_LINE_ITEMS 6
#define EXTRAS_MAX 16

static int ruleset_fd = -1;
static int ruleset_abi;

/* What every run needs that the shim never decides: the loader the
 * kernel opens for every dynamic exec, the cache it and the shim's dlopen
 * read, and /proc (the shim reads /proc/self/...; Landlock cannot name
 * "self": a rule on /proc/self would bind to one process). */
static size_t
implicit_extras(struct ward_landlock_extra *extra)
{
	size_t n = 0;
	extra[n++] = (struct ward_landlock_extra){ WARD_PROGRAM_LOADER, WARD_LL_READ_FILE | WARD_LL_EXECUTE,
		                                   "the dynamic loader" };
	extra[n++] = (struct ward_landlock_extra){ "/etc/ld.so.cache", WARD_LL_READ_FILE, "the loader's cache" };
	extra[n++] = (struct ward_landlock_extra){ "/proc", WARD_LL_READ_FILE | WARD_LL_READ_DIR,
		                                   "the shim reads /proc/self" };
	return n;
}

/* A destination ward writes to: the file when it exists, else (a
 * directory destination, or a name with %p/%e) the directory it goes in. */
static size_t
add_destination(struct ward_landlock_extra *extra, size_t n, const char *dest, char *buf, size_t cap,
                const char *why)
{
	if (dest == NULL || dest[0] != '/' || n == EXTRAS_MAX)
		return n;
	size_t len = strlen(dest);
	if (dest[len - 1] != '/' && strchr(dest, '%') == NULL && access(dest, F_OK) == 0) {
		extra[n++] = (struct ward_landlock_extra){ dest, WARD_LL_WRITE_FILE | WARD_LL_READ_FILE, why };
		return n;
	}
	snprintf(buf, cap, "%s", dest);
	char *slash = strrchr(buf, '/');
	if (slash != NULL && slash != buf)
		*slash = '\0';
	extra[n++] = (struct ward_landlock_extra){ buf, WARD_LL_WRITE_FILE | WARD_LL_READ_FILE | WARD_LL_MAKE_REG, why };
	return n;
}

/* ward's own files of this run, from the environment launch.c prepared. */
static size_t
run_extras(struct ward_landlock_extra *extra, const struct ward_policy *policy)
{
	static char lib[4096], logdir[4096], statsdir[4096];
	size_t n = implicit_extras(extra);
	const char *preload = getenv("LD_PRELOAD");
	if (preload != NULL) {
		snprintf(lib, sizeof(lib), "%.*s", (int)strcspn(preload, ": "), preload);
		extra[n++] = (struct ward_landlock_extra){ lib, WARD_LL_READ_FILE, "ward's library" };
	}
	const char *image = getenv("WARD_POLICY_IMAGE"), *tree = getenv("WARD_TREE"), *records = getenv("WARD_RECORDS");
	if (image != NULL)
		extra[n++] = (struct ward_landlock_extra){ image, WARD_LL_READ_FILE, "the compiled policy" };
	if (tree != NULL)
		extra[n++] = (struct ward_landlock_extra){ tree, WARD_LL_READ_FILE | WARD_LL_WRITE_FILE, "the tree's figures" };
	if (records != NULL)
		extra[n++] = (struct ward_landlock_extra){ records, WARD_LL_WRITE_FILE, "the tree's records" };
	for (size_t i = 0; i < policy->nfiles && n < EXTRAS_MAX - 2; i++)
		extra[n++] = (struct ward_landlock_extra){ policy->files[i], WARD_LL_READ_FILE, "the policy's text" };
	const char *log = getenv("WARD_LOG") != NULL ? getenv("WARD_LOG") : policy->log;
	n = add_destination(extra, n, log, logdir, sizeof(logdir), "the violation log");
	const char *stats = getenv("WARD_STATS") != NULL ? getenv("WARD_STATS") : policy->stats;
	n = add_destination(extra, n, stats, statsdir, sizeof(statsdir), "the stats dumps");
	return n;
}

/* "kernel backs K of N rules (Landlock ABI A); shim only: FILE:LINE (why), ..." */
static void
print_summary(FILE *out, const char *lead, const struct ward_policy *policy, const struct ward_landlock_plan *plan,
              size_t items)
{
	fprintf(out, "%skernel backs %zu of %zu rule%s (Landlock ABI %d)", lead, plan->backed, policy->nrules,
	        policy->nrules == 1 ? "" : "s", plan->abi);
	if (plan->handled == 0)
		fprintf(out, "; default allow: Landlock only lists what is allowed, so the kernel adds nothing");
	size_t shown = 0, more = 0;
	const char *last_file = NULL, *last_why = NULL;
	int last_line = 0;
	for (size_t i = 0; i < policy->nrules; i++) {
		const struct ward_rule *r = &policy->rule[i];
		const struct ward_landlock_verdict *v = &plan->verdict[i];
		if (v->backing != WARD_LL_SHIM_ONLY || plan->handled == 0)
			continue;
		if (r->file == last_file && r->line == last_line && v->why == last_why)
			continue; /* several patterns of one line */
		last_file = r->file, last_line = r->line, last_why = v->why;
		if (shown == items) {
			more++;
			continue;
		}
		fprintf(out, "%s%s:%d (%s)", shown ? ", " : "; shim only: ", r->file, r->line, v->why);
		shown++;
	}
	if (more > 0)
		fprintf(out, ", and %zu more (ward check --strict lists them)", more);
	fputc('\n', out);
}

static bool
audit_mode(const struct launch *l, const struct ward_policy *policy)
{
	const char *mode = getenv("WARD_MODE");
	if (l->audit || (mode != NULL && strcmp(mode, "audit") == 0))
		return true;
	return (mode == NULL || strcmp(mode, "enforce") != 0) && policy->mode == WARD_MODE_AUDIT;
}

static int
kernel_abi_or_fail(void)
{
	int abi = ward_landlock_abi();
	if (abi == -EOPNOTSUPP)
		cli_fail("--strict: Landlock is disabled in this kernel (not in its lsm= list); not running without it");
	if (abi < 0)
		cli_fail("--strict: this kernel offers no Landlock (landlock_create_ruleset: %s); not running without it",
		         strerror(-abi));
	return abi;
}

void
launch_strict_prepare(const struct launch *l, const struct ward_policy *policy, const struct ward_matcher *matcher)
{
	unsetenv("WARD_STRICT");
	if (!l->strict && (policy == NULL || !policy->strict))
		return;
	if (policy == NULL)
		cli_fail("--strict needs a policy (-p POLICY)");
	if (audit_mode(l, policy)) {
		if (l->strict)
			cli_fail("--strict: audit mode lets refused calls through and the kernel would not; use one or the other");
		fprintf(stderr, "ward: strict: not applied in audit mode (the kernel would refuse what audit lets through)\n");
		return;
	}
	int abi = kernel_abi_or_fail();
	struct ward_landlock_extra extra[EXTRAS_MAX];
	size_t nextra = run_extras(extra, policy);
	struct ward_landlock_plan plan;
	if (!ward_landlock_plan(policy, matcher, abi, extra, nextra, &plan))
		cli_fail("out of memory compiling the policy for Landlock");
	print_summary(stderr, "ward: strict: ", policy, &plan, FIRST_LINE_ITEMS);
	if (plan.handled != 0) {
		char err[PATH_MAX + 128];
		ruleset_fd = ward_landlock_ruleset(&plan, err, sizeof(err));
		if (ruleset_fd < 0)
			cli_fail("--strict: %s; not running without it", err);
		ruleset_abi = abi;
		setenv("WARD_STRICT", "1", 1);
	}
	ward_landlock_plan_free(&plan);
}

void
launch_strict_enter(void)
{
	if (ruleset_fd < 0)
		return;
	int r = ward_landlock_restrict(ruleset_fd, ruleset_abi);
	if (r != 0) {
		fprintf(stderr, "ward: --strict: landlock_restrict_self: %s; not running without it\n", strerror(-r));
		_exit(EXIT_WARD_ERROR);
	}
	close(ruleset_fd);
}

/* ---- ward check --strict ---- */

static void
print_rule_list(const struct ward_policy *policy, const struct ward_landlock_plan *plan)
{
	static const char *const backing[] = { "kernel", "kernel, widened", "shim only" };
	for (size_t i = 0; i < policy->nrules; i++) {
		const struct ward_rule *r = &policy->rule[i];
		const struct ward_landlock_verdict *v = &plan->verdict[i];
		printf("  %s:%d %s%s %s: %s%s%s%s\n", r->file, r->line, r->deny ? "deny" : "allow", r->quiet ? " quiet" : "",
		       r->pattern, backing[v->backing], v->why ? " (" : "", v->why ? v->why : "", v->why ? ")" : "");
	}
	if (plan->handled == 0)
		return;
	char names[512];
	ward_landlock_rights_name(plan->handled, names, sizeof(names));
	printf("ruleset: handles %s\n", names);
	for (size_t i = 0; i < plan->nrules; i++) {
		const struct ward_landlock_rule *k = &plan->rule[i];
		ward_landlock_rights_name(k->access, names, sizeof(names));
		if (k->origin >= 0)
			printf("  %s: %s (%s:%d)\n", k->path, names, policy->rule[k->origin].file, policy->rule[k->origin].line);
		else
			printf("  %s: %s (%s)\n", k->path, names, k->extra);
	}
	for (size_t i = 0; i < plan->ncreate; i++)
		printf("made before the run: %s\n", plan->create[i]);
}

int
strict_check(const char *file, const struct ward_policy *policy)
{
	int abi = ward_landlock_abi();
	bool offered = abi > 0;
	if (!offered)
		abi = 7;
	struct ward_matcher *matcher = ward_matcher_build(policy);
	struct ward_landlock_extra extra[EXTRAS_MAX];
	struct ward_landlock_plan plan;
	if (matcher == NULL || !ward_landlock_plan(policy, matcher, abi, extra, implicit_extras(extra), &plan)) {
		ward_matcher_free(matcher);
		fprintf(stderr, "ward: out of memory compiling %s for Landlock\n", file);
		return 1;
	}
	char lead[PATH_MAX + 16];
	snprintf(lead, sizeof(lead), "%s: strict: ", file);
	print_summary(stdout, lead, policy, &plan, (size_t)-1);
	print_rule_list(policy, &plan);
	if (!offered)
		printf("%s: strict: this kernel offers no Landlock (%s): `ward run --strict` fails with 125 here\n", file,
		       strerror(-ward_landlock_abi()));
	ward_landlock_plan_free(&plan);
	ward_matcher_free(matcher);
	return 0;
}
