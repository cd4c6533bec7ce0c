/*
 * json.c: string escaping for JSON and Prometheus labels.  See json.h.
 */
#include "json.h"

#include <stdbool.h>

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when s[0] does not
 * start one (a stray continuation byte, an overlong form, a surrogate, a
 * code point past U+10FFFF, or a sequence cut short). */
static size_t
utf8_length(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	unsigned int min, cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static const char hex[] = "0123456789abcdef";

static size_t
escape(char *out, size_t cap, const char *text, bool prom)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = 0;
	if (cap == 0)
		return 0;
	while (*s) {
		char piece[8];
		size_t len = 0, take = 1;
		size_t u = utf8_length(s);
		if (*s == '"' || *s == '\\') {
			piece[len++] = '\\';
			piece[len++] = (char)*s;
		} else if (prom && *s == '\n') {
			piece[len++] = '\\';
			piece[len++] = 'n';
		} else if (*s < 0x20 || *s == 0x7f || u == 0) {
			if (prom) {
				piece[len++] = '?';
			} else {
				const char esc[] = { '\\', 'u', '0', '0', hex[*s >> 4], hex[*s & 15] };
				for (size_t i = 0; i < sizeof(esc); i++)
					piece[len++] = esc[i];
			}
		} else {
			take = u;
			for (size_t i = 0; i < u; i++)
				piece[len++] = (char)s[i];
		}
		if (n + len + 1 > cap)
			break;
		for (size_t i = 0; i < len; i++)
			out[n++] = piece[i];
		s += take;
	}
	out[n] = '\0';
	return n;
}

size_t
ward_json_escape(char *out, size_t cap, const char *s)
{
	return escape(out, cap, s, false);
}

size_t
ward_prom_escape(char *out, size_t cap, const char *s)
{
	return escape(out, cap, s, true);
}
