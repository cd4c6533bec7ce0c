/*
 * learn.c: `ward learn -o OUT.ward [-p BASE] -- CMD [ARG...]` (SPEC 5.7).
 *
 * Runs CMD like `ward run` (launch.c) but in audit mode under BASE, reads
 * the tree's records back, and writes OUT.ward: the base (the built-in one
 * inline, a given one by include), then what the tree needed beyond it,
 * folded into readable rules (learned.h).  What BASE refuses by one of its
 * own deny rules or limits stays refused (a deny beats any allow): those
 * are reported on stderr and at the end of OUT.ward.  OUT.ward is written
 * to a temporary beside it, checked by loading it as `ward check` would,
 * and renamed into place.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "learned.h"
#include "policy.h"
#include "records.h"

/* What every dynamically linked program needs to start, read-only; the
 * secrets stay refused even if a rule the user adds would allow them. */
static const char builtin_base[] =
	"# What every program needs to start (ward learn's built-in base), read-only:\n"
	"# the loader and libraries, the loader's cache, locales and time zones,\n"
	"# user and group names, the harmless devices.\n"
	"allow ro   /lib/** /lib32/** /lib64/** /libx32/** /usr/lib/** /usr/lib32/** /usr/lib64/**\n"
	"allow ro   /etc/ld.so.cache /etc/ld.so.conf /etc/ld.so.conf.d/** /etc/ld.so.preload\n"
	"allow ro   /usr/lib/locale/** /usr/share/locale/** /etc/locale.alias /etc/localtime\n"
	"allow ro   /usr/share/zoneinfo/** /etc/nsswitch.conf /etc/passwd /etc/group\n"
	"allow ro   /dev/null /dev/zero /dev/urandom /dev/random\n"
	"deny  all  /etc/shadow /etc/gshadow /etc/sudoers /etc/sudoers.d/**\n";

static const char builtin_secrets[] =
	"deny  all  ~/.ssh/** ~/.gnupg/** ~/.aws/** ~/.netrc ~/.docker/config.json\n";

struct learn_options {
	const char *out, *base;
	char **cmd;
};

static char base_path[PATH_MAX];       /* the built-in base, written for the tree */
static char temporary[PATH_MAX + 32];  /* OUT.ward until it is complete */

static void
remove_files(void)
{
	if (base_path[0] != '\0')
		unlink(base_path);
	if (temporary[0] != '\0')
		unlink(temporary);
	base_path[0] = temporary[0] = '\0';
}

static int
parse_options(int argc, char **argv, struct learn_options *o)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "policy", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+o:p:h", options, NULL)) != -1) {
		if (opt == 'o')
			o->out = optarg;
		else if (opt == 'p')
			o->base = optarg;
		else if (opt == 'h') {
			cli_help("learn", stdout);
			return 0;
		} else
			return cli_usage_error("learn", EXIT_WARD_ERROR, "unknown option or missing value: %s",
			                       argv[optind - 1]);
	}
	if (o->out == NULL)
		return cli_usage_error("learn", EXIT_WARD_ERROR, "no output given (-o OUT.ward)");
	if (optind >= argc)
		return cli_usage_error("learn", EXIT_WARD_ERROR, "no command given (ward learn -o OUT.ward -- CMD)");
	o->cmd = argv + optind;
	return -1;
}

/* The temporary OUT.ward is written to, made now so that an output that
 * cannot be written fails before CMD runs. */
static FILE *
open_output(const char *out)
{
	struct stat st;
	char folder[PATH_MAX];
	if (stat(out, &st) == 0 && !S_ISREG(st.st_mode))
		cli_fail("learn: -o %s: not a regular file", out);
	snprintf(folder, sizeof(folder), "%s", out);
	snprintf(temporary, sizeof(temporary), "%s/.ward-learn.XXXXXX", dirname(folder));
	int fd = mkostemp(temporary, O_CLOEXEC);
	if (fd < 0) {
		temporary[0] = '\0';
		cli_fail("learn: -o %s: cannot write there: %s", out, strerror(errno));
	}
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	FILE *f = fdopen(fd, "w");
	if (f == NULL)
		cli_fail("learn: -o %s: %s", out, strerror(errno));
	return f;
}

static void
write_builtin_base(FILE *out)
{
	fputs(builtin_base, out);
	const char *home = getenv("HOME");
	if (home != NULL && home[0] == '/')
		fputs(builtin_secrets, out);
}

/* The built-in base as a file the tree can load. */
static const char *
make_base(void)
{
	const char *dirs[] = { getenv("TMPDIR"), "/tmp", "/dev/shm" };
	for (size_t i = 0; i < 3; i++) {
		if (dirs[i] == NULL || dirs[i][0] != '/')
			continue;
		snprintf(base_path, sizeof(base_path), "%s/ward-base.XXXXXX", dirs[i]);
		int fd = mkostemp(base_path, O_CLOEXEC);
		FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (f == NULL) {
			if (fd >= 0)
				close(fd);
			base_path[0] = '\0';
			continue;
		}
		fputs("version 1\ndefault deny\n", f);
		write_builtin_base(f);
		if (fclose(f) == 0)
			return base_path;
	}
	cli_fail("learn: cannot write the built-in base policy: %s", strerror(errno));
}

/* CMD as a one-line comment: arguments with blanks in single quotes. */
static void
write_command(FILE *out, char **cmd)
{
	for (size_t i = 0; cmd[i] != NULL; i++) {
		bool quote = cmd[i][0] == '\0' || strpbrk(cmd[i], " \t'\"\\$*?;&|<>()") != NULL;
		fprintf(out, "%s%s", i ? " " : "", quote ? "'" : "");
		for (const char *s = cmd[i]; *s; s++)
			fputc(*s == '\n' || *s == '\r' ? ' ' : *s, out);
		fputs(quote ? "'" : "", out);
	}
}

/* Where the base goes in OUT.ward: its folder if OUT is beside it. */
static void
write_include(FILE *out, const char *base, const char *out_path)
{
	char real_base[PATH_MAX], out_dir[PATH_MAX], base_dir[PATH_MAX];
	if (realpath(base, real_base) == NULL)
		snprintf(real_base, sizeof(real_base), "%s", base);
	snprintf(base_dir, sizeof(base_dir), "%s", real_base);
	snprintf(out_dir, sizeof(out_dir), "%s", out_path);
	char *od = dirname(out_dir), resolved[PATH_MAX];
	bool beside = realpath(od, resolved) != NULL && strcmp(resolved, dirname(base_dir)) == 0;
	fprintf(out, "\n# The base it was learned under (its own mode, default and limits lose to\n"
	             "# this file's).\ninclude %s\n",
	        beside ? strrchr(real_base, '/') + 1 : real_base);
}

static void
write_header(FILE *out, const struct learn_options *o, const struct ward_learn_env *env)
{
	char date[32];
	time_t now = time(NULL);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M", localtime(&now));
	fprintf(out, "# %s: learned by `ward learn` on %s from the command\n#   ", basename((char *)o->out), date);
	write_command(out, o->cmd);
	fprintf(out, "\n# run in $CWD=%s with $HOME=%s and $TMPDIR=%s.\n", env->cwd, env->home ? env->home : "(unset)",
	        env->tmpdir);
	fputs("#\n"
	      "# It allows what the command did, folded into trees (docs/POLICY.md,\n"
	      "# \"Learning a policy\"): system trees read-only, $CWD readable, writes\n"
	      "# only where the command wrote.  Review it before use.\n"
	      "version 1\n"
	      "mode enforce\n"
	      "default deny\n",
	      out);
}

/* CMD itself: exec'd by the launcher, after the PATH search execvp does. */
static void
learn_command(struct ward_learned *learned, const char *name)
{
	char found[PATH_MAX * 2], real[PATH_MAX];
	const char *path = getenv("PATH");
	if (strchr(name, '/') != NULL) {
		if (realpath(name, real) != NULL)
			ward_learned_add(learned, WARD_OP_EXEC, real);
		return;
	}
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		snprintf(found, sizeof(found), "%.*s/%s", (int)n, n ? p : ".", name);
		struct stat st;
		if (stat(found, &st) == 0 && S_ISREG(st.st_mode) && access(found, X_OK) == 0 &&
		    realpath(found, real) != NULL) {
			ward_learned_add(learned, WARD_OP_EXEC, real);
			return;
		}
		p += n + (p[n] == ':');
	}
}

/* One merged record: a need, or something the base refuses on its own. */
static void
learn_entry(struct ward_learned *learned, const struct ward_record_entry *e, FILE *notes, unsigned long *kept)
{
	size_t bad;
	unsigned int ops = ward_policy_parse_ops(e->op, &bad);
	if (e->quiet)
		return;
	if (strcmp(e->rule, "default") == 0 && ops != 0) {
		ward_learned_add(learned, ops, e->path);
		return;
	}
	char by[4300];
	ward_records_describe_rule(e->rule, by, sizeof(by));
	fprintf(stderr, "ward: learn: the base refuses %s %s by %s; the learned policy refuses it too\n", e->op,
	        e->path, by);
	if (*kept == 0)
		fputs("\n# The command also did these, which the base refuses on its own (a deny\n"
		      "# beats every allow); change the base if it must:\n",
		      notes);
	fprintf(notes, "#   %s %s (by %s)\n", e->op, e->path, by);
	if (strncmp(e->rule, "unconfined-exec", 15) == 0)
		fputs("#   unconfined-exec allow   # would let such programs run, unwatched\n", notes);
	(*kept)++;
}

/* The records, learned into out; false if none could be read. */
static size_t
learn_records(FILE *out, const struct ward_learn_env *env, char **cmd, unsigned long *records)
{
	struct ward_records r;
	struct ward_learned *learned = ward_learned_new(env);
	char *notes_text = NULL;
	size_t notes_len = 0;
	FILE *notes = open_memstream(&notes_text, &notes_len);
	unsigned long kept = 0;
	ward_records_init(&r);
	if (!ward_records_read(&r, launch_records_path()))
		cli_fail("learn: cannot read the tree's records: %s", strerror(errno));
	learn_command(learned, cmd[0]);
	for (size_t i = 0; i < r.n; i++)
		learn_entry(learned, &r.entry[i], notes, &kept);
	*records = r.lines;
	size_t rules = ward_learned_write(learned, out);
	if (notes != NULL && fclose(notes) == 0 && notes_text != NULL)
		fputs(notes_text, out);
	free(notes_text);
	ward_learned_free(learned);
	ward_records_free(&r);
	return rules;
}

/* Load the written policy as ward check would: an error is ward's own. */
static void
verify(const char *shown)
{
	struct ward_policy_error error;
	struct ward_policy *p = ward_policy_load(temporary, NULL, &error);
	if (p == NULL)
		cli_fail("learn: the policy written for %s does not load (a bug in ward): %s:%d:%d: %s", shown,
		         error.file, error.line, error.col, error.message);
	ward_policy_free(p);
}

int
cmd_learn(int argc, char **argv)
{
	struct learn_options o = { 0 };
	int early = parse_options(argc, argv, &o);
	if (early >= 0)
		return early;
	atexit(remove_files);
	FILE *out = open_output(o.out);
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		cli_fail("learn: getcwd: %s", strerror(errno));
	const char *tmpdir = getenv("TMPDIR");
	const char *home = getenv("HOME");
	struct ward_learn_env env = { cwd, home && home[0] == '/' ? home : NULL,
		                      tmpdir && tmpdir[0] == '/' ? tmpdir : "/tmp" };
	/* the records come back through WARD_RECORDS: none on the terminal */
	struct launch l = { .policy = o.base ? o.base : make_base(), .audit = true, .log = "/dev/null" };
	launch_prepare(&l);
	int status = launch_run(o.cmd);

	write_header(out, &o, &env);
	if (o.base != NULL)
		write_include(out, o.base, o.out);
	else {
		fputc('\n', out);
		write_builtin_base(out);
	}
	unsigned long records;
	size_t rules = learn_records(out, &env, o.cmd, &records);
	if (fclose(out) != 0)
		cli_fail("learn: -o %s: %s", o.out, strerror(errno));
	verify(o.out);
	if (rename(temporary, o.out) != 0)
		cli_fail("learn: -o %s: %s", o.out, strerror(errno));
	temporary[0] = '\0';
	launch_cleanup();
	fprintf(stderr, "ward: learn: wrote %s: %zu rule%s from %lu record%s%s\n", o.out, rules, rules == 1 ? "" : "s",
	        records, records == 1 ? "" : "s", status == 0 ? "" : " (the command failed: check what it did)");
	return status;
}
