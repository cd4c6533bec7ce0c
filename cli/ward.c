/*
 * ward: the launcher's entry point.
 *
 *   ward run | learn | check | explain | report ...   (one file each)
 *   ward --help | --version | SUBCOMMAND --help
 *
 * Picks the subcommand; each one reads its own options, --help included
 * (its help on stdout, exit 0).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "explain.h"

#ifndef WARD_VERSION
#define WARD_VERSION "unknown"
#endif

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} commands[] = {
		{ "run", cmd_run },         { "learn", cmd_learn },   { "check", cmd_check },
		{ "explain", ward_cli_explain }, { "report", cmd_report },
	};
	if (argc < 2)
		return cli_usage_error(NULL, EXIT_WARD_ERROR, "no subcommand given (run, learn, check, explain, report)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		cli_help(NULL, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("ward %s\n", WARD_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	}
	return cli_usage_error(NULL, EXIT_WARD_ERROR, "unknown subcommand '%s'", argv[1]);
}
