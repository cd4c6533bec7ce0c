/*
 * pycheck: ask independent parsers (python3's json module, the Prometheus
 * client's exposition parser) whether a rendered dump is valid, so the tests
 * do not only agree with ward's own idea of the formats.
 */
#ifndef WARD_TESTS_PYCHECK_H
#define WARD_TESTS_PYCHECK_H

#include <stdbool.h>

/* Every non-empty line of text is one JSON document for json.loads. */
bool pycheck_json_lines(const char *text);

/* text is a valid Prometheus text exposition (tests/check_prom.py); on
 * failure *why (malloc'd, may be NULL) says what the checker printed. */
bool pycheck_prom(const char *text, char **why);

/* One integer out of a JSON file (a ward report or a dump): python3
 * evaluates expr with the document as d and P = d['programs'] when there is
 * one.  A failed evaluation fails the calling test. */
long pycheck_json_value(const char *file, const char *expr);

#endif
