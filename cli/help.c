/*
 * help.c: the launcher's help texts, one per subcommand (`ward SUBCOMMAND
 * --help`) and the overview (`ward --help`), and the one-line usage errors
 * that point to them.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char overview[] =
	"usage: ward run [-p POLICY] [-s DEST] [-f FORMAT] [--audit] [--strict] [--no-fail]\n"
	"                [--log DEST] [--backtrace] -- CMD [ARG...]\n"
	"       ward learn -o OUT.ward [-p BASE] -- CMD [ARG...]\n"
	"       ward check [--strict] POLICY...\n"
	"       ward explain -p POLICY [--follow|--no-follow] OP PATH\n"
	"       ward report [-f FORMAT] FILE|DIR...\n"
	"       ward --help | --version | SUBCOMMAND --help\n"
	"\n"
	"run      run CMD and every process it starts under libward.so, confined by POLICY;\n"
	"         then print the tree's figures and a summary of what the policy refused\n"
	"learn    run CMD in audit mode and write a policy that lets it run (OUT.ward)\n"
	"check    validate policy files\n"
	"explain  say how the policy decides one access, and by which rule\n"
	"report   merge stats dumps and ward run's JSON reports and print them\n"
	"\n"
	"'ward SUBCOMMAND --help' describes each one.  Policies: docs/POLICY.md.\n";

static const char run_help[] =
	"usage: ward run [-p POLICY] [-s DEST] [-f FORMAT] [--audit] [--strict] [--no-fail]\n"
	"                [--log DEST] [--backtrace] -- CMD [ARG...]\n"
	"\n"
	"Run CMD and every process it starts under libward.so.  At the end, print the\n"
	"figures of the whole tree (totals, then one line per program) to DEST, and on\n"
	"stderr a summary of the tree's violation records: each distinct (decision,\n"
	"operation, path) with the programs, the deciding rule and a count, most\n"
	"frequent first; quiet denials as one count.\n"
	"\n"
	"  -p, --policy FILE   confine the tree by this policy (docs/POLICY.md)\n"
	"      --audit         log what the policy would refuse, refuse nothing\n"
	"      --strict        the kernel holds the tree to the policy too (Landlock;\n"
	"                      also 'strict on' in the policy): raw system calls and\n"
	"                      static programs included; 125 where the kernel has none\n"
	"      --no-fail       keep CMD's exit status 0 even when the policy refused something\n"
	"      --log DEST      also write every violation record to stderr (default) or to\n"
	"                      a file (JSON lines)\n"
	"      --backtrace     add a backtrace to every violation record\n"
	"  -s, --stats DEST    where the figures go: stderr (default), fd:N, a file (replaced\n"
	"                      whole), a directory ending in '/', or none; checked before CMD\n"
	"                      starts\n"
	"  -f, --format FMT    text (default for stderr and fd:N), json (default for files),\n"
	"                      prom\n"
	"  -h, --help          this help\n"
	"\n"
	"Exit status: CMD's own; 3 when CMD exited 0 but the policy refused something in\n"
	"enforce or kill mode (not quiet denials; --no-fail keeps 0); 128+N if signal N\n"
	"killed CMD; 125 ward's own error (bad flag, policy or DEST, missing libward.so);\n"
	"126 CMD found but not runnable; 127 CMD not found.\n"
	"Environment: WARD_LIB overrides where libward.so is found.\n";

static const char learn_help[] =
	"usage: ward learn -o OUT.ward [-p BASE] -- CMD [ARG...]\n"
	"\n"
	"Run CMD in audit mode under BASE (default: a built-in base that allows only what\n"
	"every program needs to start), collect what the tree did beyond BASE, and write\n"
	"OUT.ward: a commented policy ('default deny', rules grouped by operation, trees\n"
	"folded into DIR/**, $CWD, $HOME and $TMPDIR where they apply) under which\n"
	"'ward run -p OUT.ward -- CMD' runs with no violation while writes anywhere CMD\n"
	"did not write stay refused.  Review it before use: it allows what CMD did.\n"
	"\n"
	"  -o, --output FILE   the policy to write (replaced whole)\n"
	"  -p, --policy BASE   start from this policy instead of the built-in base\n"
	"  -h, --help          this help\n"
	"\n"
	"Exit status: CMD's own (128+N if signal N killed it); 125 ward's own error;\n"
	"126, 127 as for ward run.  OUT.ward is written in every case but 125.\n";

static const char check_help[] =
	"usage: ward check [--strict] POLICY...\n"
	"\n"
	"Load each policy file as the shim would (includes, variables) and print\n"
	"'FILE: ok (N rules)' or 'FILE:LINE:COL: error: MESSAGE'.  Warns when an\n"
	"include's setting (mode, default, a limit...) is overridden by the includer.\n"
	"\n"
	"  --strict   also say which rules the kernel backs under 'ward run --strict'\n"
	"             and which only the shim does, and print the Landlock ruleset\n"
	"\n"
	"Exit status: 0 every file is valid; 1 one is not; 2 usage error.\n";

static const char report_help[] =
	"usage: ward report [-f text|json|prom] FILE|DIR...\n"
	"\n"
	"Merge per-process JSON stats dumps (files, or directories written with\n"
	"WARD_STATS=dir/) and the JSON reports of 'ward run -s FILE' (-f json, the\n"
	"default for files), and print the totals and one line per program to stdout.\n"
	"\n"
	"  -f, --format FMT    text (default), json or prom\n"
	"  -h, --help          this help\n"
	"\n"
	"Exit status: 0; 1 a file could not be read or held no dump; 2 usage error.\n";

void
cli_help(const char *subcommand, FILE *out)
{
	static const struct {
		const char *name, *text;
	} texts[] = { { "run", run_help },         { "learn", learn_help },   { "check", check_help },
		      { "report", report_help } };
	for (size_t i = 0; subcommand != NULL && i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (strcmp(subcommand, texts[i].name) == 0) {
			fputs(texts[i].text, out);
			return;
		}
	}
	fputs(overview, out);
}

void
cli_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("ward: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(EXIT_WARD_ERROR);
}

int
cli_usage_error(const char *subcommand, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "ward: %s%s", subcommand ? subcommand : "", subcommand ? ": " : "");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry 'ward %s%s--help'.\n", subcommand ? subcommand : "", subcommand ? " " : "");
	va_end(ap);
	return status;
}
