/*
 * json: the one string escaper for everything ward writes as JSON (stats
 * dumps, tree reports, violation records) and for Prometheus label values.
 *
 * JSON: '"' and '\' get a backslash; control bytes (0x00-0x1f, 0x7f) and
 * every byte that is not part of valid UTF-8 become \u00XX, one per byte,
 * so any name (a file name is just bytes) gives one valid JSON string.
 * Prometheus labels: '\', '"' and newline get a backslash (the text
 * format's own escapes); other control bytes and invalid UTF-8 become '?',
 * which the format cannot carry.  Both always terminate out and never
 * write past cap; they return the length written (truncating whole
 * characters when the text does not fit).
 */
#ifndef WARD_CORE_JSON_H
#define WARD_CORE_JSON_H

#include <stddef.h>

size_t ward_json_escape(char *out, size_t cap, const char *s);
size_t ward_prom_escape(char *out, size_t cap, const char *s);

#endif
