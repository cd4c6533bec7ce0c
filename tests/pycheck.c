/*
 * pycheck: run python3 checkers on rendered text (see pycheck.h).
 */
#define _GNU_SOURCE
#include "pycheck.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

static const char json_lines_script[] =
	"import json, sys\n"
	"lines = [l for l in sys.stdin.read().split('\\n') if l.strip()]\n"
	"assert lines, 'no JSON lines'\n"
	"for l in lines:\n"
	"    json.loads(l)\n";

static bool
python(const char *const argv[], const char *text, char **why)
{
	struct run_opts o = { .input = text, .input_len = strlen(text), .timeout_ms = 20000 };
	struct run_result r;
	if (!run_argv(argv, &o, &r))
		return false;
	bool ok = run_exit_code(&r) == 0;
	if (why != NULL)
		*why = ok ? NULL : strdup(r.err);
	run_free(&r);
	return ok;
}

bool
pycheck_json_lines(const char *text)
{
	const char *argv[] = { PYTHON3, "-c", json_lines_script, NULL };
	return python(argv, text, NULL);
}

bool
pycheck_prom(const char *text, char **why)
{
	const char *argv[] = { PYTHON3, CHECK_PROM, NULL };
	return python(argv, text, why);
}

long
pycheck_json_value(const char *file, const char *expr)
{
	char script[1024];
	snprintf(script, sizeof(script),
	         "import json, sys\nd = json.load(open(sys.argv[1]))\nP = d.get('programs', {})\nprint(int(%s))\n",
	         expr);
	const char *argv[] = { PYTHON3, "-c", script, file, NULL };
	struct run_opts o = { .timeout_ms = 20000 };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r), "cannot start python3");
	cr_assert_eq(run_exit_code(&r), 0, "%s: %s", expr, r.err);
	long v = strtol(r.out, NULL, 10);
	run_free(&r);
	return v;
}
