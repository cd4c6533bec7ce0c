/*
 * json: the little JSON reading the tests need, without a dependency.
 *
 * Dumps are checked by meaning (the figure under "calls.open.calls"), not by
 * byte layout, so key order or new keys never break a test; json_valid is a
 * strict RFC 8259 syntax check for the same reason python3's json.loads is
 * used elsewhere: the dump must be valid for any consumer.
 */
#ifndef WARD_TESTS_JSON_H
#define WARD_TESTS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True if text[0..len) is exactly one JSON value (blanks around allowed). */
bool json_valid(const char *text, size_t len);

/* Start of the value at a dotted path of object keys ("files.opened") in the
 * object at text; NULL if a key is missing or the text is malformed. */
const char *json_find(const char *text, const char *path);

/* A non-negative integer at path; false if absent or not one. */
bool json_get_u64(const char *text, const char *path, uint64_t *out);

/* A string without escapes at path, copied into out; false otherwise. */
bool json_get_str(const char *text, const char *path, char *out, size_t cap);

/* Members of the object at path ("" for the top); -1 if not an object. */
long json_count_members(const char *text, const char *path);

#endif
