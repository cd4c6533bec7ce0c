/*
 * test_records: the launcher's records file and summary (cli/records.c)
 * and the folding of a learned policy (cli/learned.c), fed by hand-written
 * records and needs: what `ward run` prints after a run and what `ward
 * learn` writes, without running a process tree.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../cli/learned.h"
#include "../cli/records.h"
#include "policy.h"

static char *
summary_of(const char *lines)
{
	struct ward_records r;
	char *text = NULL;
	size_t len = 0;
	ward_records_init(&r);
	for (const char *s = lines; *s;) {
		const char *nl = strchrnul(s, '\n');
		char *line = strndup(s, (size_t)(nl - s));
		if (line[0] != '\0')
			ward_records_add_line(&r, line);
		free(line);
		s = *nl ? nl + 1 : nl;
	}
	FILE *out = open_memstream(&text, &len);
	ward_records_summary(&r, out, 200);
	fclose(out);
	ward_records_free(&r);
	return text;
}

#define RECORD(exe, op, path, decision, rule, quiet)                                                        \
	"{\"time\":1.5,\"pid\":42,\"ppid\":1,\"exe\":\"" exe "\",\"cwd\":\"/w\",\"call\":\"openat\",\"op\":\"" op \
	"\",\"path\":\"" path "\",\"decision\":\"" decision "\",\"rule\":\"" rule "\",\"quiet\":" quiet "}\n"

Test(records, summary_merges_equal_records_most_frequent_first)
{
	char *text = summary_of(RECORD("cat", "read", "/etc/secret", "denied", "base.ward:12", "false")
	                        RECORD("sh", "write,create", "/etc/x", "denied", "default", "false")
	                        RECORD("cc1", "read", "/etc/secret", "denied", "base.ward:12", "false")
	                        RECORD("cat", "read", "/etc/secret", "denied", "base.ward:12", "false")
	                        RECORD("sh", "write", "/home/u/.cache/x", "denied", "b.ward:3", "true")
	                        RECORD("sh", "write", "/home/u/.cache/y", "denied", "b.ward:3", "true"));
	const char *first = strstr(text, "      3 denied read /etc/secret by rule base.ward:12 [cat, cc1]\n");
	const char *second = strstr(text, "      1 denied write,create /etc/x by default deny [sh]\n");
	cr_assert_not_null(first, "%s", text);
	cr_assert_not_null(second, "%s", text);
	cr_expect(first < second, "not most frequent first: %s", text);
	cr_expect_not_null(strstr(text, "      2 quiet denials (deny quiet), not listed\n"), "%s", text);
	cr_expect_null(strstr(text, ".cache"), "a quiet denial was listed: %s", text);
	cr_expect_not_null(strstr(text, "(4 denied, 2 quiet denials)"), "%s", text);
	free(text);
}

/* Names are any bytes: a newline in a path or a program's name stays
 * escaped in the summary, so no record prints a line of its own (a forged
 * "ward: ..." summary line). */
Test(records, names_with_newlines_stay_on_their_line)
{
	char *text = summary_of(RECORD("evil\\nward:       9 denied read /fake by rule x.ward:1 [x]", "read",
	                               "/tmp/a\\nward: nothing denied\\u0007", "denied", "default", "false"));
	cr_expect_not_null(strstr(text, "      1 denied read /tmp/a\\u000award: nothing denied\\u0007 by default deny "
	                                "[evil\\u000award:       9 denied read /fake by rule x.ward:1 [x]]\n"),
	                   "%s", text);
	size_t lines = 0;
	for (const char *c = text; *c; c++)
		lines += *c == '\n';
	cr_expect_eq(lines, 2, "a name made a line of its own:\n%s", text);
	free(text);
}

/* --strict: a raw system call's record is its own entry, said to be one;
 * kernel-confined notes are counted apart, never as violations. */
Test(records, raw_calls_and_kernel_confined_processes)
{
	struct ward_records r;
	ward_records_init(&r);
	const char *raw = "{\"time\":1,\"pid\":4,\"exe\":\"gen\",\"call\":\"openat\",\"via\":\"raw syscall\",\"op\":\"read\","
	                  "\"path\":\"/etc/secret\",\"decision\":\"denied\",\"rule\":\"default\",\"quiet\":false}";
	ward_records_add_line(&r, raw);
	ward_records_add_line(&r, RECORD("cat", "read", "/etc/secret", "denied", "default", "false"));
	ward_records_add_line(&r, RECORD("sh", "exec", "/w/bin/static", "kernel-confined",
	                                 "unconfined-exec (statically linked; kernel-confined)", "false"));
	ward_records_add_line(&r, RECORD("sh", "exec", "/w/bin/static", "kernel-confined",
	                                 "unconfined-exec (statically linked; kernel-confined)", "false"));
	cr_expect_eq(ward_records_refusals(&r), 2);
	cr_expect_eq(r.kernel_confined, 2);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	ward_records_summary(&r, out, 200);
	fclose(out);
	cr_expect_not_null(strstr(text, "(2 denied)"), "%s", text);
	cr_expect_not_null(strstr(text, "      1 denied read /etc/secret by default deny (raw syscall, a system call made "
	                                "outside libc) [gen]\n"), "%s", text);
	cr_expect_not_null(strstr(text, "      1 denied read /etc/secret by default deny [cat]\n"), "%s", text);
	cr_expect_not_null(strstr(text, "      2 processes ran kernel-confined only"), "%s", text);
	cr_expect_not_null(strstr(text, "      2 kernel-confined exec /w/bin/static by unconfined-exec (statically linked; "
	                                "kernel-confined) [sh]\n"), "%s", text);
	free(text);
	ward_records_free(&r);
}

Test(records, refusals_count_denials_and_kills_but_not_audits_or_quiet_ones)
{
	struct ward_records r;
	ward_records_init(&r);
	cr_assert(ward_records_add_line(&r, RECORD("a", "read", "/x", "audited", "default", "false")));
	cr_expect_eq(ward_records_refusals(&r), 0);
	cr_assert(ward_records_add_line(&r, RECORD("a", "read", "/x", "denied", "default", "true")));
	cr_expect_eq(ward_records_refusals(&r), 0, "a quiet denial made the run fail");
	cr_assert(ward_records_add_line(&r, RECORD("a", "exec", "/bin/x", "killed", "p.ward:1", "false")));
	cr_assert(ward_records_add_line(&r, RECORD("a", "fds", "10", "denied", "limit fds 10", "false")));
	cr_expect_eq(ward_records_refusals(&r), 2);
	ward_records_free(&r);
}

Test(records, limits_and_unconfined_execs_read_as_their_rule)
{
	char *text = summary_of(RECORD("make", "children", "64", "denied", "limit children 64", "false")
	                        RECORD("sh", "exec", "/usr/bin/passwd", "denied", "unconfined-exec (set-user-ID)",
	                               "false"));
	cr_expect_not_null(strstr(text, "denied children 64 by limit children 64 [make]"), "%s", text);
	cr_expect_not_null(strstr(text, "denied exec /usr/bin/passwd by unconfined-exec (set-user-ID) [sh]"), "%s",
	                   text);
	free(text);
}

Test(records, escapes_backtraces_and_unknown_keys)
{
	char *text = summary_of("{\"time\":1,\"pid\":2,\"exe\":\"c\\\"at\",\"call\":\"open\",\"op\":\"read\","
	                        "\"path\":\"/a b/\\u00ff\\n\",\"decision\":\"denied\",\"rule\":\"default\","
	                        "\"backtrace\":[\"main+0x1c\",\"x+0x2\"],\"new\":{\"k\":[1,2]}}\n");
	/* printed escaped as the shim's lines are: one line, whatever the bytes */
	cr_expect_not_null(strstr(text, "1 denied read /a b/\\u00ff\\u000a by default deny [c\\\"at]\n"), "%s", text);
	free(text);
}

Test(records, lines_that_are_not_records_are_counted_not_listed)
{
	char *text = summary_of("not json\n{\"op\":\"read\"}\n" RECORD("a", "read", "/x", "denied", "default", "false"));
	cr_expect_not_null(strstr(text, "1 denied read /x by default deny [a]"), "%s", text);
	cr_expect_not_null(strstr(text, "2 lines of the records file were not records"), "%s", text);
	free(text);
}

Test(records, no_records_no_summary)
{
	char *text = summary_of("");
	cr_expect_str_eq(text, "");
	free(text);
}

/* The file: private (or, as root, writable but not readable by the users
 * a tree may switch to, in a directory they cannot list). */
Test(records, file_is_created_private)
{
	char dir[4096], path[4096];
	const char *dirs[] = { NULL, "/nonexistent-ward", "/tmp" };
	cr_assert_eq(ward_records_create(dirs, 3, dir, sizeof(dir), path, sizeof(path)), 0);
	cr_expect_eq(strncmp(path, "/tmp/ward-records.", 18), 0, "%s", path);
	struct stat st, sd;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(stat(dir, &sd), 0);
	bool root = geteuid() == 0;
	cr_expect_eq(st.st_mode & 0777, root ? 0622u : 0600u, "file mode %o", st.st_mode & 0777);
	cr_expect_eq(sd.st_mode & 0777, root ? 0711u : 0700u, "directory mode %o", sd.st_mode & 0777);
	cr_expect_geq(strlen(strrchr(path, '/')), 33, "the name is not unguessable: %s", path);
	ward_records_remove(dir, path);
	cr_expect_neq(stat(dir, &sd), 0, "the directory stayed");
}

/* ---- learned policies ---- */

static const struct ward_learn_env learn_env = { "/home/u/proj", "/home/u", "/tmp" };

static char *
learned(const unsigned int ops[], const char *const paths[])
{
	struct ward_learned *l = ward_learned_new(&learn_env);
	for (size_t i = 0; paths[i] != NULL; i++)
		ward_learned_add(l, ops[i], paths[i]);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	ward_learned_write(l, out);
	fclose(out);
	ward_learned_free(l);
	return text;
}

enum { R = WARD_OP_READ, S = WARD_OP_STAT, W = WARD_OP_WRITE, C = WARD_OP_CREATE, D = WARD_OP_REMOVE,
       X = WARD_OP_EXEC };

Test(learned, system_trees_read_only_and_the_project_readable)
{
	const unsigned int ops[] = { R, S, R | S, R, S, X };
	const char *const paths[] = { "/usr/share/a/b", "/usr/bin/x", "/etc/hostname", "/home/u/proj/src/a.c",
		                      "/home/u/proj", "/usr/bin/cc", NULL };
	char *text = learned(ops, paths);
	cr_expect_not_null(strstr(text, "allow ro     /usr/**\n"), "%s", text);
	cr_expect_not_null(strstr(text, "allow ro     /etc/**\n"), "%s", text);
	cr_expect_not_null(strstr(text, "allow ro     $CWD/**\n"), "%s", text);
	cr_expect_not_null(strstr(text, "allow exec   /usr/bin/cc\n"), "%s", text);
	cr_expect_null(strstr(text, "/usr/bin/**"), "exec folded outside $CWD: %s", text);
	free(text);
}

Test(learned, writes_fold_only_where_the_command_made_a_tree)
{
	const unsigned int ops[] = { C, W | C, W | C, W | C, W | C, W | C, W | C };
	const char *const paths[] = { "/home/u/proj/out", "/home/u/proj/out/h", "/home/u/data.txt",
		                      "/home/u/.cache/a", "/home/u/.cache/b", "/home/u/.cache/c", "/etc/x", NULL };
	char *text = learned(ops, paths);
	cr_expect_not_null(strstr(text, "allow write,create,remove $CWD/out/**\n"), "%s", text);
	cr_expect_not_null(strstr(text, "allow write,create,remove $HOME/data.txt\n"), "%s", text);
	cr_expect_not_null(strstr(text, "allow write,create,remove $HOME/.cache/**\n"), "%s", text);
	cr_expect_not_null(strstr(text, "allow write,create,remove /etc/x\n"), "%s", text);
	cr_expect_null(strstr(text, "$HOME/**"), "the home directory was opened for writing: %s", text);
	cr_expect_null(strstr(text, "/etc/**"), "%s", text);
	free(text);
}

Test(learned, temporaries_become_prefix_patterns)
{
	const unsigned int ops[] = { W | C | D, W | C | D, R | W | C | D, W | C };
	const char *const paths[] = { "/tmp/ccAb12Xy.s", "/tmp/ccqR5tuv.o", "/tmp/tmpk3j4l_x", "/tmp/kept", NULL };
	char *text = learned(ops, paths);
	cr_expect_not_null(strstr(text, "$TMPDIR/cc*\n"), "%s", text);
	cr_expect_not_null(strstr(text, "$TMPDIR/tmp*\n"), "%s", text);
	cr_expect_not_null(strstr(text, "allow write,create,remove $TMPDIR/kept\n"), "not a temporary: exact: %s", text);
	cr_expect_null(strstr(text, "$TMPDIR/**"), "%s", text);
	free(text);
}

/* mkstemp's file is decided on its template, then used by its real name. */
Test(learned, mkstemp_templates_cover_the_real_names)
{
	const unsigned int ops[] = { C, R | S | W | D, S | D };
	const char *const paths[] = { "/tmp/ccXXXXXX.s", "/tmp/ccDhRPPi.s", "/tmp/ccewyd7N.res", NULL };
	char *text = learned(ops, paths);
	cr_expect_not_null(strstr(text, "allow rw     $TMPDIR/cc*.s\n"), "%s", text);
	cr_expect_null(strstr(text, "ccDhRPPi"), "the real name is listed: %s", text);
	cr_expect_not_null(strstr(text, "$TMPDIR/ccewyd7N.res"), "not made from a template seen: %s", text);
	free(text);
}

Test(learned, tokens_use_variables_and_quotes)
{
	char out[256];
	ward_learned_token(&learn_env, "/home/u/proj/a b/c", out, sizeof(out));
	cr_expect_str_eq(out, "\"$CWD/a b/c\"");
	ward_learned_token(&learn_env, "/home/u/x$y", out, sizeof(out));
	cr_expect_str_eq(out, "$HOME/x?y");
	ward_learned_token(&learn_env, "/home/uv", out, sizeof(out));
	cr_expect_str_eq(out, "/home/uv", "a variable replaced part of a name");
	ward_learned_token(&learn_env, "/tmp", out, sizeof(out));
	cr_expect_str_eq(out, "$TMPDIR");
}

/* Whatever the needs, the rules parse as a policy. */
Test(learned, output_is_a_valid_policy)
{
	const unsigned int ops[] = { R, W | C, X, S, C | D };
	const char *const paths[] = { "/srv/\"q\" x", "/home/u/proj/a b", "/home/u/proj/bin/t", "/", "/tmp/zz9", NULL };
	char *text = learned(ops, paths);
	char *policy;
	cr_assert_neq(asprintf(&policy, "version 1\ndefault deny\n%s", text), -1);
	struct ward_policy_error e;
	static const struct ward_policy_env env = { NULL, NULL, "/home/u/proj" };
	setenv("HOME", "/home/u", 1);
	struct ward_policy *p = ward_policy_parse("learned.ward", policy, strlen(policy), &env, &e);
	cr_assert_not_null(p, "%s:%d:%d: %s\n%s", e.file, e.line, e.col, e.message, policy);
	cr_expect_geq(p->nrules, 5, "%s", policy);
	ward_policy_free(p);
	free(policy);
	free(text);
}
