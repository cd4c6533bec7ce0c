/*
 * explain.h: `ward explain -p POLICY [--follow|--no-follow] OP PATH`.
 */
#ifndef WARD_CLI_EXPLAIN_H
#define WARD_CLI_EXPLAIN_H

/* Exit status: 0 allow, 1 deny, 2 error. */
int ward_cli_explain(int argc, char **argv);

#endif
