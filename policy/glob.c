/*
 * glob.c: component-wise wildcard matching, and the naive reference
 * decision that the compiled matcher is tested against.
 *
 * Both levels use the classic one-backtrack-point wildcard walk: '**' is a
 * star over components, '*' a star over characters within one component.
 * Linear in practice, no allocation, no recursion (it runs in the shim).
 */
#include "match.h"

#include <string.h>

/* The component starting at s (after its '/'), up to the next '/' or end. */
static size_t
component_length(const char *s)
{
	size_t n = 0;
	while (s[n] != '\0' && s[n] != '/')
		n++;
	return n;
}

static bool
component_match(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star_p = ++pi;
			star_s = si;
		} else if (pi < pn && (p[pi] == '?' || p[pi] == s[si])) {
			pi++;
			si++;
		} else if (star_p != (size_t)-1) {
			pi = star_p;
			si = ++star_s;
		} else {
			return false;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

/* Step past one component and its leading '/'; "" stays "". */
static const char *
next_component(const char *s)
{
	s += component_length(s);
	return *s == '/' ? s + 1 : s;
}

static bool
is_double_star(const char *p)
{
	return p[0] == '*' && p[1] == '*' && (p[2] == '/' || p[2] == '\0');
}

bool
ward_glob_match(const char *pattern, const char *path)
{
	/* Skip the leading '/': "/" has no components at all.  Each
	 * component's length is found once, and a step goes past it and its
	 * '/' (if any) at once. */
	const char *p = pattern[0] == '/' ? pattern + 1 : pattern;
	const char *s = path[0] == '/' ? path + 1 : path;
	const char *star_p = NULL, *star_s = NULL;
	while (*s != '\0') {
		if (*p != '\0') {
			size_t pn = component_length(p);
			if (pn == 2 && p[0] == '*' && p[1] == '*') {
				p += 2 + (p[2] == '/');
				star_p = p;
				star_s = s;
				continue;
			}
			size_t sn = component_length(s);
			if (component_match(p, pn, s, sn)) {
				p += pn + (p[pn] == '/');
				s += sn + (s[sn] == '/');
				continue;
			}
		}
		if (star_p == NULL)
			return false;
		p = star_p;
		star_s += component_length(star_s);
		star_s += *star_s == '/';
		s = star_s;
	}
	while (*p != '\0' && is_double_star(p))
		p = next_component(p);
	return *p == '\0';
}

/* Could pattern match path itself or a path below it?  Component by
 * component: a '**' before path runs out could match anything below it,
 * and a pattern that goes on past the end of path is below it.  A pattern
 * that starts with '**' matches wherever its tail stands, so no rename
 * carries anything out of it: false. */
bool
ward_glob_match_at_or_below(const char *pattern, const char *path)
{
	const char *p = pattern[0] == '/' ? pattern + 1 : pattern;
	const char *s = path[0] == '/' ? path + 1 : path;
	if (is_double_star(p))
		return false;
	while (*s != '\0') {
		if (*p == '\0')
			return false; /* the pattern names something above path */
		if (is_double_star(p))
			return true;
		if (!component_match(p, component_length(p), s, component_length(s)))
			return false;
		p = next_component(p);
		s = next_component(s);
	}
	return true;
}

/* A deny rule whose pattern could match path or anything below it: moving
 * path would carry what that rule protects to names it does not match.
 * The rule's index, or -1. */
int
ward_policy_denies_at_or_below(const struct ward_policy *policy, const char *path)
{
	for (size_t i = 0; i < policy->nrules; i++) {
		struct ward_rule r = ward_policy_rule(policy, i);
		if (r.deny && ward_glob_match_at_or_below(r.pattern, path))
			return (int)i;
	}
	return -1;
}

struct ward_decision
ward_policy_decide_naive(const struct ward_policy *policy, unsigned int op, const char *path)
{
	int deny = -1, allow = -1;
	bool quiet = false;
	for (size_t i = 0; i < policy->nrules && deny < 0; i++) {
		struct ward_rule r = ward_policy_rule(policy, i);
		if (!(r.ops & op) || !ward_glob_match(r.pattern, path))
			continue;
		if (r.deny) {
			deny = (int)i;
			quiet = r.quiet;
		} else if (allow < 0) {
			allow = (int)i;
		}
	}
	if (deny >= 0)
		return (struct ward_decision){ false, quiet, deny };
	if (allow >= 0)
		return (struct ward_decision){ true, false, allow };
	return (struct ward_decision){ !policy->default_deny, false, -1 };
}

