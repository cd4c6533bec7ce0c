/*
 * test_policy: the version 1 policy language parser (policy/parse.c).
 *
 * Valid policies produce the rules and settings SPEC 5 describes; every
 * malformed one is refused with the exact FILE:LINE:COL of the offending
 * token.  Variables come from a fixed table so results do not depend on the
 * machine.
 */
#include <criterion/criterion.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"

static const char *
fixed_lookup(const char *name, void *context)
{
	(void)context;
	static const char *const vars[][2] = {
		{ "HOME", "/home/user" }, { "X", "/x" }, { "EMPTY", "" }, { "SPACE", "/a b" },
		{ "WILD", "/tmp/w*" }, { "Q", "/q?" },
	};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strcmp(vars[i][0], name) == 0)
			return vars[i][1];
	return NULL;
}

static const struct ward_policy_env env = { fixed_lookup, NULL, "/work" };

static struct ward_policy *
parse(const char *text, struct ward_policy_error *error)
{
	return ward_policy_parse("t.ward", text, strlen(text), &env, error);
}

Test(policy, full_example)
{
	struct ward_policy_error e;
	struct ward_policy *p = parse("version 1\n"
	                              "mode audit   # trailing comment\n"
	                              "default allow\n"
	                              "allow ro /usr/** /lib/**\n"
	                              "allow rw $CWD/** ${X}/y $TMPDIR/**\n"
	                              "deny all /etc/shadow ~/.ssh/**\n"
	                              "deny quiet write $HOME/**\n"
	                              "allow read,exec \"/srv/with space/**\" \"/q\\\"uote\"\n"
	                              "limit memory 512M\nlimit children 64\nlimit fds 1024\n"
	                              "memory wx deny\nunconfined-exec audit\n"
	                              "log /tmp/ward.log\nstats /tmp/st/\nbacktrace on\n",
	                              &e);
	cr_assert_not_null(p, "%s:%d:%d: %s", e.file, e.line, e.col, e.message);
	cr_expect_eq(p->mode, WARD_MODE_AUDIT);
	cr_expect_eq(p->default_deny, false);
	cr_assert_eq(p->nrules, 10);
	cr_expect_str_eq(p->rule[0].pattern, "/usr/**");
	cr_expect_eq(p->rule[0].ops, WARD_OP_READ | WARD_OP_STAT);
	cr_expect_str_eq(p->rule[2].pattern, "/work/**");
	cr_expect_str_eq(p->rule[3].pattern, "/x/y");
	cr_expect_str_eq(p->rule[4].pattern, "/tmp/**");
	cr_expect_str_eq(p->rule[6].pattern, "/home/user/.ssh/**");
	cr_expect(p->rule[6].deny && !p->rule[6].quiet);
	cr_expect(p->rule[7].deny && p->rule[7].quiet);
	cr_expect_eq(p->rule[7].ops, WARD_OP_WRITE);
	cr_expect_str_eq(p->rule[8].pattern, "/srv/with space/**");
	cr_expect_eq(p->rule[8].ops, WARD_OP_READ | WARD_OP_EXEC);
	cr_expect_str_eq(p->rule[9].pattern, "/q\"uote");
	cr_expect_eq(p->rule[5].line, 6);
	cr_expect_str_eq(p->rule[5].file, "t.ward");
	cr_expect_eq(p->limit_memory, 512ull << 20);
	cr_expect_eq(p->limit_children, 64);
	cr_expect_eq(p->limit_fds, 1024);
	cr_expect(p->memory_wx_deny);
	cr_expect_eq(p->unconfined_exec, WARD_UNCONFINED_AUDIT);
	cr_expect_str_eq(p->log, "/tmp/ward.log");
	cr_expect_str_eq(p->stats, "/tmp/st/");
	cr_expect_eq(p->backtrace, 1);
	ward_policy_free(p);
}

Test(policy, defaults)
{
	struct ward_policy_error e;
	struct ward_policy *p = parse("# nothing but a comment\n\n   \n", &e);
	cr_assert_not_null(p);
	cr_expect_eq(p->mode, WARD_MODE_ENFORCE);
	cr_expect(p->default_deny);
	cr_expect_eq(p->unconfined_exec, WARD_UNCONFINED_DENY);
	cr_expect_eq(p->nrules, 0);
	cr_expect_eq(p->backtrace, -1);
	ward_policy_free(p);
}

Test(policy, aliases_and_patterns_are_normalised)
{
	struct ward_policy_error e;
	struct ward_policy *p = parse("allow rw //a///b/\nallow rx /\nallow all /c/**\n", &e);
	cr_assert_not_null(p, "%s", e.message);
	cr_expect_str_eq(p->rule[0].pattern, "/a/b");
	cr_expect_eq(p->rule[0].ops, WARD_OP_READ | WARD_OP_STAT | WARD_OP_WRITE | WARD_OP_CREATE | WARD_OP_REMOVE);
	cr_expect_str_eq(p->rule[1].pattern, "/");
	cr_expect_eq(p->rule[1].ops, WARD_OP_READ | WARD_OP_STAT | WARD_OP_EXEC);
	cr_expect_eq(p->rule[2].ops, WARD_OP_ALL);
	ward_policy_free(p);
}

/* One malformed policy: the text, and where and what the error must be. */
struct bad {
	const char *text;
	int line, col;
	const char *message_part;
	size_t len; /* 0: the text's strlen */
};

static const struct bad bad_policies[] = {
	{ "frob /x\n", 1, 1, "unknown directive 'frob'" , 0 },
	{ "version 2\n", 1, 9, "unsupported version" , 0 },
	{ "version\n", 1, 1, "expects" , 0 },
	{ "version 1 1\n", 1, 11, "unexpected '1'" , 0 },
	{ "mode fast\n", 1, 6, "expected enforce, audit or kill" , 0 },
	{ "mode\n", 1, 1, "expects" , 0 },
	{ "default maybe\n", 1, 9, "expected allow or deny" , 0 },
	{ "default allow deny\n", 1, 15, "unexpected 'deny'" , 0 },
	{ "allow\n", 1, 1, "operations and at least one pattern" , 0 },
	{ "allow ro\n", 1, 1, "at least one pattern" , 0 },
	{ "allow rox /x\n", 1, 7, "unknown operation" , 0 },
	{ "allow read,,write /x\n", 1, 7, "unknown operation" , 0 },
	{ "allow read, /x\n", 1, 7, "unknown operation" , 0 },
	{ "allow quiet ro /x\n", 1, 7, "'quiet' only goes with deny" , 0 },
	{ "deny quiet\n", 1, 1, "operations and at least one pattern" , 0 },
	{ "allow ro relative/path\n", 1, 10, "not an absolute path" , 0 },
	{ "allow ro /ok x\n", 1, 14, "not an absolute path" , 0 },
	{ "allow ro /a/../b\n", 1, 10, "'..' component" , 0 },
	{ "allow ro /a/./b\n", 1, 10, "'.' or '..' component" , 0 },
	{ "allow ro /a/b**\n", 1, 10, "'**' must be a whole path component" , 0 },
	{ "allow ro /a/***/b\n", 1, 10, "'**' must be a whole path component" , 0 },
	{ "allow ro $NOPE/x\n", 1, 10, "undefined variable $NOPE" , 0 },
	{ "allow ro ${NOPE}/x\n", 1, 10, "undefined variable $NOPE" , 0 },
	{ "allow ro $WILD/**\n", 1, 10, "$WILD is '/tmp/w*': its '*' would be a wildcard", 0 },
	{ "allow ro /a ${Q}/x\n", 1, 13, "$Q is '/q?': its '?' would be a wildcard", 0 },
	{ "allow ro ${X/x\n", 1, 10, "closing brace" , 0 },
	{ "allow ro /a/$\n", 1, 10, "variable name" , 0 },
	{ "allow ro $EMPTY\n", 1, 10, "not an absolute path" , 0 },
	{ "allow ro \"/unterminated\n", 1, 10, "unterminated quoted token" , 0 },
	{ "allow ro \"/a\"b\n", 1, 14, "blank after the closing quote" , 0 },
	{ "allow ro /a\"b\"\n", 1, 12, "quote may only start a token" , 0 },
	{ "limit\n", 1, 1, "expects memory, children or fds" , 0 },
	{ "limit disk 1G\n", 1, 7, "expected memory, children or fds" , 0 },
	{ "limit memory\n", 1, 1, "expects a size" , 0 },
	{ "limit memory 12Q\n", 1, 14, "malformed size" , 0 },
	{ "limit memory M\n", 1, 14, "expected a size" , 0 },
	{ "limit memory 0\n", 1, 14, "above 0" , 0 },
	{ "limit memory 99999999999999999999\n", 1, 14, "too large" , 0 },
	{ "limit memory 99999999999999G\n", 1, 14, "too large" , 0 },
	{ "limit children 1K\n", 1, 16, "expected a number" , 0 },
	{ "limit fds -1\n", 1, 11, "expected a number" , 0 },
	{ "limit fds 10 20\n", 1, 14, "unexpected '20'" , 0 },
	{ "memory rw deny\n", 1, 8, "memory wx deny" , 0 },
	{ "memory wx maybe\n", 1, 11, "expected deny or allow" , 0 },
	{ "memory\n", 1, 1, "memory wx deny" , 0 },
	{ "unconfined-exec sometimes\n", 1, 17, "expected deny, audit or allow" , 0 },
	{ "backtrace yes\n", 1, 11, "expected on or off" , 0 },
	{ "log\n", 1, 1, "expects one value" , 0 },
	{ "stats /a /b\n", 1, 10, "unexpected '/b'" , 0 },
	{ "include\n", 1, 1, "expects a file name" , 0 },
	{ "include /nonexistent/ward/policy.ward\n", 1, 9, "cannot read" , 0 },
	{ "version 1\n\n# comment\n   deny all /x /y\n  allow bogus /z\n", 5, 9, "unknown operation" , 0 },
	{ "allow ro ~nobody/x\n", 1, 10, "not an absolute path" , 0 },
	{ "allow ro /a\0b\n", 1, 1, "NUL byte", sizeof("allow ro /a\0b\n") - 1 },
};

/* Each malformed policy is refused at its exact position; all are checked
 * and every mismatch reported. */
Test(policy, malformed)
{
	for (size_t i = 0; i < sizeof(bad_policies) / sizeof(bad_policies[0]); i++) {
		const struct bad *bad = &bad_policies[i];
		struct ward_policy_error e;
		size_t len = bad->len ? bad->len : strlen(bad->text);
		struct ward_policy *p = ward_policy_parse("t.ward", bad->text, len, &env, &e);
		cr_expect_null(p, "accepted: %s", bad->text);
		if (p != NULL) {
			ward_policy_free(p);
			continue;
		}
		cr_expect_str_eq(e.file, "t.ward");
		cr_expect_eq(e.line, bad->line, "%s: line %d, want %d (%s)", bad->text, e.line, bad->line, e.message);
		cr_expect_eq(e.col, bad->col, "%s: col %d, want %d (%s)", bad->text, e.col, bad->col, e.message);
		cr_expect(strstr(e.message, bad->message_part) != NULL, "%s: message '%s' lacks '%s'",
		          bad->text, e.message, bad->message_part);
	}
}

Test(policy, at_least_thirty_malformed_cases)
{
	cr_expect_geq(sizeof(bad_policies) / sizeof(bad_policies[0]), 30);
}

/* $CWD, $HOME (and ~), $TMPDIR with a wildcard in the value: refused where
 * they make a pattern, not silently widened to the directory's siblings. */
static const char *
wild_lookup(const char *name, void *context)
{
	(void)context;
	if (strcmp(name, "HOME") == 0)
		return "/home/a*b";
	if (strcmp(name, "TMPDIR") == 0)
		return "/tmp/t?";
	return NULL;
}

Test(policy, wildcards_in_a_variable_value_are_refused_in_patterns)
{
	static const struct ward_policy_env wild = { wild_lookup, NULL, "/tmp/x/w*" };
	const struct {
		const char *text, *message;
		int col;
	} cases[] = {
		{ "version 1\nallow rw $CWD/**\n", "$CWD is '/tmp/x/w*': its '*'", 10 },
		{ "version 1\nallow rw /ok ~/x\n", "~ (HOME) is '/home/a*b': its '*'", 14 },
		{ "version 1\nallow rw ${TMPDIR}/**\n", "$TMPDIR is '/tmp/t?': its '?'", 10 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ward_policy_error e;
		struct ward_policy *p = ward_policy_parse("t.ward", cases[i].text, strlen(cases[i].text), &wild, &e);
		cr_expect_null(p, "accepted: %s", cases[i].text);
		if (p != NULL) {
			ward_policy_free(p);
			continue;
		}
		cr_expect_eq(e.line, 2, "%s: line %d", cases[i].text, e.line);
		cr_expect_eq(e.col, cases[i].col, "%s: col %d (%s)", cases[i].text, e.col, e.message);
		cr_expect(strstr(e.message, cases[i].message) != NULL, "%s: %s", cases[i].text, e.message);
	}
	/* a pattern without those variables is still fine */
	struct ward_policy_error e;
	const char *plain = "version 1\nallow rw /tmp/x/**\n";
	struct ward_policy *p = ward_policy_parse("t.ward", plain, strlen(plain), &wild, &e);
	cr_expect_not_null(p, "%s", e.message);
	ward_policy_free(p);
}

/* ---- files and includes ---- */

static char dir[] = "/tmp/ward-policy-XXXXXX";

static void
make_dir(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void
remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

static void
write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static struct ward_policy *
load(const char *name, struct ward_policy_error *e)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return ward_policy_load(path, &env, e);
}

Test(policy_files, include_is_relative_to_the_including_file, .init = make_dir, .fini = remove_dir)
{
	struct ward_policy_error e;
	char sub[256];
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	cr_assert_eq(mkdir(sub, 0755), 0);
	write_file("sub/base.ward", "allow ro /usr/**\ninclude more.ward\n");
	write_file("sub/more.ward", "deny all /etc/shadow\n");
	write_file("main.ward", "version 1\ninclude sub/base.ward\nallow rw /tmp/**\n");
	struct ward_policy *p = load("main.ward", &e);
	cr_assert_not_null(p, "%s:%d:%d: %s", e.file, e.line, e.col, e.message);
	cr_assert_eq(p->nrules, 3);
	cr_expect(strstr(p->rule[1].file, "sub/more.ward") != NULL);
	cr_expect_eq(p->rule[1].line, 1);
	cr_expect(strstr(p->rule[2].file, "main.ward") != NULL);
	cr_expect_eq(p->rule[2].line, 3);
	ward_policy_free(p);
}

Test(policy_files, include_cycle_is_an_error, .init = make_dir, .fini = remove_dir)
{
	struct ward_policy_error e;
	write_file("a.ward", "allow ro /a\ninclude b.ward\n");
	write_file("b.ward", "\n\ninclude a.ward\n");
	cr_assert_null(load("a.ward", &e));
	cr_expect(strstr(e.file, "b.ward") != NULL, "%s", e.file);
	cr_expect_eq(e.line, 3);
	cr_expect_eq(e.col, 9);
	cr_expect(strstr(e.message, "cycle") != NULL, "%s", e.message);
}

Test(policy_files, error_inside_include_names_the_included_file, .init = make_dir, .fini = remove_dir)
{
	struct ward_policy_error e;
	write_file("inner.ward", "allow ro /ok\nallow ro nope\n");
	write_file("outer.ward", "include inner.ward\n");
	cr_assert_null(load("outer.ward", &e));
	cr_expect(strstr(e.file, "inner.ward") != NULL, "%s", e.file);
	cr_expect_eq(e.line, 2);
	cr_expect_eq(e.col, 10);
}

Test(policy_files, empty_or_missing_file_is_an_error, .init = make_dir, .fini = remove_dir)
{
	struct ward_policy_error e;
	write_file("empty.ward", "");
	cr_assert_null(load("empty.ward", &e));
	cr_expect_eq(e.line, 1);
	cr_expect_eq(e.col, 1);
	cr_expect(strstr(e.message, "empty") != NULL);
	cr_assert_null(load("missing.ward", &e));
	cr_expect(strstr(e.message, "cannot read") != NULL);
}

Test(policy_files, included_file_may_be_empty, .init = make_dir, .fini = remove_dir)
{
	struct ward_policy_error e;
	write_file("empty.ward", "");
	write_file("main.ward", "include empty.ward\n");
	struct ward_policy *p = load("main.ward", &e);
	cr_assert_not_null(p, "%s", e.message);
	ward_policy_free(p);
}

/* SPEC 5: the including file's own settings win over its includes',
 * wherever the include line stands. */
Test(policy_files, includer_settings_win_wherever_the_include_stands, .init = make_dir, .fini = remove_dir)
{
	struct ward_policy_error e;
	write_file("build.ward", "mode enforce\ndefault allow\nlimit fds 100\nlimit children 5\n"
	                         "unconfined-exec allow\nlog /inc.log\nbacktrace off\nallow ro /usr/**\n");
	write_file("before.ward", "mode kill\ndefault deny\nlimit fds 10\nunconfined-exec audit\n"
	                          "log /main.log\nbacktrace on\ninclude build.ward\n");
	write_file("after.ward", "include build.ward\nmode audit\nlimit fds 20\n");
	struct ward_policy *p = load("before.ward", &e);
	cr_assert_not_null(p, "%s:%d:%d: %s", e.file, e.line, e.col, e.message);
	cr_expect_eq(p->mode, WARD_MODE_KILL, "the include replaced the includer's mode");
	cr_expect(p->default_deny, "the include replaced the includer's default");
	cr_expect_eq(p->limit_fds, 10);
	cr_expect_eq(p->limit_children, 5, "a setting only the include makes still counts");
	cr_expect_eq(p->unconfined_exec, WARD_UNCONFINED_AUDIT);
	cr_expect_str_eq(p->log, "/main.log");
	cr_expect_eq(p->backtrace, 1);
	cr_expect_eq(p->nrules, 1, "the include's rules are still read");
	cr_expect_geq(p->nwarnings, 6, "every overridden setting is noted");
	cr_expect(strstr(p->warning[0], "build.ward:1:1: warning: 'mode' is overridden by") != NULL, "%s",
	          p->warning[0]);
	cr_expect(strstr(p->warning[0], "before.ward:1") != NULL, "%s", p->warning[0]);
	ward_policy_free(p);

	p = load("after.ward", &e);
	cr_assert_not_null(p, "%s:%d:%d: %s", e.file, e.line, e.col, e.message);
	cr_expect_eq(p->mode, WARD_MODE_AUDIT);
	cr_expect_eq(p->limit_fds, 20);
	cr_expect_eq(p->default_deny, false, "the include's default stands where the includer says nothing");
	ward_policy_free(p);
}

/* Two files that do not include one another: the later one wins; an
 * include's include loses to the include. */
Test(policy_files, nested_and_sibling_includes, .init = make_dir, .fini = remove_dir)
{
	struct ward_policy_error e;
	write_file("deep.ward", "mode kill\nlimit fds 1\n");
	write_file("mid.ward", "include deep.ward\nmode audit\n");
	write_file("other.ward", "limit fds 7\n");
	write_file("top.ward", "include mid.ward\ninclude other.ward\n");
	struct ward_policy *p = load("top.ward", &e);
	cr_assert_not_null(p, "%s:%d:%d: %s", e.file, e.line, e.col, e.message);
	cr_expect_eq(p->mode, WARD_MODE_AUDIT, "mid.ward's own mode beats the one it includes");
	cr_expect_eq(p->limit_fds, 7, "the later sibling wins");
	ward_policy_free(p);
	write_file("same.ward", "mode kill\nmode audit\n");
	p = load("same.ward", &e);
	cr_assert_not_null(p);
	cr_expect_eq(p->mode, WARD_MODE_AUDIT, "within one file the last line wins");
	cr_expect_eq(p->nwarnings, 0);
	ward_policy_free(p);
}

/* A FIFO or a directory as a policy or include is refused at once (never
 * a hang waiting for a writer). */
Test(policy_files, fifo_or_directory_is_not_a_policy, .init = make_dir, .fini = remove_dir, .timeout = 10)
{
	struct ward_policy_error e;
	char fifo[256], sub[256];
	snprintf(fifo, sizeof(fifo), "%s/fifo.ward", dir);
	snprintf(sub, sizeof(sub), "%s/dir.ward", dir);
	cr_assert_eq(mkfifo(fifo, 0644), 0);
	cr_assert_eq(mkdir(sub, 0755), 0);
	cr_assert_null(load("fifo.ward", &e));
	cr_expect(strstr(e.message, "not a regular file") != NULL, "%s", e.message);
	cr_expect_eq(e.line, 1);
	cr_assert_null(load("dir.ward", &e));
	cr_expect(strstr(e.message, "not a regular file") != NULL, "%s", e.message);
	write_file("main.ward", "allow ro /usr/**\n  include fifo.ward\n");
	cr_assert_null(load("main.ward", &e));
	cr_expect(strstr(e.file, "main.ward") != NULL, "%s", e.file);
	cr_expect_eq(e.line, 2);
	cr_expect_eq(e.col, 11);
	cr_expect(strstr(e.message, "not a regular file") != NULL, "%s", e.message);
}

/* No crash, hang or leak on arbitrary bytes (a short deterministic fuzz). */
Test(policy, random_bytes_never_crash)
{
	static const char alphabet[] = "allowdenyquietro,rw*?/$~{}\"\\# \t\n01KMG.xinclude";
	char text[200];
	unsigned int seed = 12345;
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(rand_r(&seed) % (sizeof(text) - 1));
		for (size_t i = 0; i < n; i++)
			text[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		struct ward_policy_error e;
		struct ward_policy *p = ward_policy_parse("fuzz.ward", text, n, &env, &e);
		if (p == NULL)
			cr_assert(e.line >= 1 && e.col >= 1, "bad position %d:%d", e.line, e.col);
		ward_policy_free(p);
	}
}
