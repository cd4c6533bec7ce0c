/*
 * json: a validating skipper and a path lookup (see json.h).
 */
#include "json.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

static const char *skip_value(const char *p, const char *end, int depth);

static const char *
skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static const char *
skip_string(const char *p, const char *end)
{
	if (p >= end || *p != '"')
		return NULL;
	for (p++; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL;
		if (c != '\\')
			continue;
		if (++p >= end)
			return NULL;
		if (*p == 'u') {
			for (int i = 0; i < 4; i++)
				if (++p >= end || !isxdigit((unsigned char)*p))
					return NULL;
		} else if (!strchr("\"\\/bfnrt", *p)) {
			return NULL;
		}
	}
	return NULL;
}

static const char *
skip_digits(const char *p, const char *end)
{
	const char *start = p;
	while (p < end && isdigit((unsigned char)*p))
		p++;
	return p > start ? p : NULL;
}

static const char *
skip_number(const char *p, const char *end)
{
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if ((p = skip_digits(p, end)) == NULL)
		return NULL;
	if (p < end && *p == '.' && (p = skip_digits(p + 1, end)) == NULL)
		return NULL;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		p = skip_digits(p, end);
	}
	return p;
}

/* Object or array: members separated by commas, no trailing comma. */
static const char *
skip_container(const char *p, const char *end, int depth)
{
	char close = *p == '{' ? '}' : ']';
	bool object = *p == '{';
	p = skip_blanks(p + 1, end);
	if (p < end && *p == close)
		return p + 1;
	for (;;) {
		if (object) {
			p = skip_string(p, end);
			if (p == NULL || (p = skip_blanks(p, end)) >= end || *p != ':')
				return NULL;
			p = skip_blanks(p + 1, end);
		}
		p = skip_value(p, end, depth + 1);
		if (p == NULL || (p = skip_blanks(p, end)) >= end)
			return NULL;
		if (*p == close)
			return p + 1;
		if (*p != ',')
			return NULL;
		p = skip_blanks(p + 1, end);
	}
}

static const char *
skip_value(const char *p, const char *end, int depth)
{
	if (p >= end || depth > MAX_DEPTH)
		return NULL;
	if (*p == '{' || *p == '[')
		return skip_container(p, end, depth);
	if (*p == '"')
		return skip_string(p, end);
	if (*p == '-' || isdigit((unsigned char)*p))
		return skip_number(p, end);
	static const char *const words[] = { "true", "false", "null" };
	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(words[i]);
		if ((size_t)(end - p) >= n && memcmp(p, words[i], n) == 0)
			return p + n;
	}
	return NULL;
}

bool
json_valid(const char *text, size_t len)
{
	const char *end = text + len;
	const char *p = skip_value(skip_blanks(text, end), end, 0);
	return p != NULL && skip_blanks(p, end) == end;
}

/* In the object at p, the value of key [key, key+klen). */
static const char *
member(const char *p, const char *end, const char *key, size_t klen)
{
	p = skip_blanks(p, end);
	if (p >= end || *p != '{')
		return NULL;
	p = skip_blanks(p + 1, end);
	while (p < end && *p == '"') {
		const char *name = p + 1;
		const char *after = skip_string(p, end);
		if (after == NULL)
			return NULL;
		bool match = (size_t)(after - 1 - name) == klen && memcmp(name, key, klen) == 0;
		p = skip_blanks(after, end);
		if (p >= end || *p != ':')
			return NULL;
		p = skip_blanks(p + 1, end);
		if (match)
			return p;
		if ((p = skip_value(p, end, 0)) == NULL)
			return NULL;
		p = skip_blanks(p, end);
		if (p < end && *p == ',')
			p = skip_blanks(p + 1, end);
	}
	return NULL;
}

const char *
json_find(const char *text, const char *path)
{
	const char *end = text + strlen(text);
	const char *p = text;
	while (p != NULL && *path) {
		size_t klen = strcspn(path, ".");
		p = member(p, end, path, klen);
		path += klen;
		if (*path == '.')
			path++;
	}
	return p;
}

bool
json_get_u64(const char *text, const char *path, uint64_t *out)
{
	const char *p = json_find(text, path);
	if (p == NULL || !isdigit((unsigned char)*p))
		return false;
	char *end;
	*out = strtoull(p, &end, 10);
	return *end != '.' && *end != 'e' && *end != 'E';
}

bool
json_get_str(const char *text, const char *path, char *out, size_t cap)
{
	const char *p = json_find(text, path);
	if (p == NULL || *p != '"')
		return false;
	size_t n = strcspn(p + 1, "\"\\");
	if (p[1 + n] != '"' || n + 1 > cap)
		return false;
	memcpy(out, p + 1, n);
	out[n] = '\0';
	return true;
}

long
json_count_members(const char *text, const char *path)
{
	const char *end = text + strlen(text);
	const char *p = *path ? json_find(text, path) : skip_blanks(text, end);
	if (p == NULL || *p != '{')
		return -1;
	long n = 0;
	p = skip_blanks(p + 1, end);
	while (p < end && *p == '"') {
		p = skip_string(p, end);
		if (p == NULL || (p = skip_blanks(p, end)) >= end || *p != ':')
			return -1;
		if ((p = skip_value(skip_blanks(p + 1, end), end, 0)) == NULL)
			return -1;
		n++;
		p = skip_blanks(p, end);
		if (p < end && *p == ',')
			p = skip_blanks(p + 1, end);
	}
	return p < end && *p == '}' ? n : -1;
}
