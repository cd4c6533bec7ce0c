/*
 * libward.so exports exactly the functions of shim/calls.def (TRAPS 5, 6).
 *
 * A wrapper that is not exported intercepts nothing (a -flto build once
 * dropped a sandbox's wrappers silently); anything else exported leaks the
 * shim's internals into every program; a versioned name (open@@NODE) is
 * never bound by programs.  And every name of the table must be a function
 * the real libc exports, or the shim wraps something no program can call.
 * The lists come from `nm -D --defined-only` of the built library and of
 * Debian 12's libc.so.6, compared with the table parsed from the source.
 * And a function of the table has every public name libc gives it (its
 * aliases at the same address: __open, _IO_fopen, __libc_malloc) in the
 * table too, or a program calling that name is not intercepted; computed
 * from libc's symbol table when the test runs, so a glibc with more
 * aliases fails here.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAMES 8192

struct names {
	char *name[MAX_NAMES];
	char type[MAX_NAMES];   /* nm's symbol type letter; 0 for the table */
	char *version[MAX_NAMES];
	unsigned long address[MAX_NAMES]; /* nm's; 0 for the table */
	size_t n;
};

static void
add(struct names *set, const char *name, size_t len, char type, const char *version)
{
	cr_assert_lt(set->n, MAX_NAMES);
	set->name[set->n] = strndup(name, len);
	set->type[set->n] = type;
	set->version[set->n] = version ? strdup(version) : NULL;
	set->n++;
}

static bool
has(const struct names *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->name[i], name) == 0)
			return true;
	return false;
}

/* WARD_CALL(ret, NAME, ...) / WARD_CALL_VOID(NAME, ...) / WARD_CALL_CUSTOM(NAME) /
 * WARD_ALIAS(NAME, name) */
static void
read_table(struct names *set)
{
	FILE *f = fopen(CALLS_DEF, "r");
	cr_assert_not_null(f, "cannot read %s", CALLS_DEF);
	char line[4096];
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *p;
		if (strncmp(line, "WARD_CALL(", 10) == 0) {
			/* skip the return type: up to the first comma at depth 0 */
			p = line + 10;
			for (int depth = 0; *p && !(*p == ',' && depth == 0); p++)
				depth += (*p == '(') - (*p == ')');
			cr_assert_eq(*p, ',', "cannot parse: %s", line);
			p++;
		} else if (strncmp(line, "WARD_CALL_VOID(", 15) == 0) {
			p = line + 15;
		} else if (strncmp(line, "WARD_CALL_CUSTOM(", 17) == 0) {
			p = line + 17;
		} else if (strncmp(line, "WARD_ALIAS(", 11) == 0) {
			p = line + 11;
		} else {
			continue;
		}
		while (isspace((unsigned char)*p))
			p++;
		size_t len = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
		cr_assert_gt(len, 0, "cannot parse: %s", line);
		add(set, p, len, 0, NULL);
	}
	fclose(f);
	cr_assert_gt(set->n, 100, "the table looks truncated: %zu names", set->n);
}

/* "ADDRESS TYPE NAME[@[@]VERSION]" lines of nm -D --defined-only. */
static void
read_nm(const char *library, struct names *set)
{
	char command[4096], line[4096];
	snprintf(command, sizeof(command), "nm -D --defined-only '%s'", library);
	FILE *p = popen(command, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p) != NULL) {
		char address[64], type[8], symbol[2048];
		if (sscanf(line, "%63s %7s %2047s", address, type, symbol) != 3)
			continue;
		char *at = strchr(symbol, '@');
		add(set, symbol, at ? (size_t)(at - symbol) : strlen(symbol), type[0], at);
		set->address[set->n - 1] = strtoul(address, NULL, 16);
	}
	cr_assert_eq(pclose(p), 0, "nm failed on %s", library);
	cr_assert_gt(set->n, 0, "nm listed nothing for %s", library);
}

Test(exports, table_has_no_duplicates)
{
	struct names table = { 0 };
	read_table(&table);
	for (size_t i = 0; i < table.n; i++)
		for (size_t j = i + 1; j < table.n; j++)
			cr_expect_str_neq(table.name[i], table.name[j], "%s is listed twice", table.name[i]);
}

Test(exports, every_table_function_is_exported)
{
	struct names table = { 0 }, lib = { 0 };
	read_table(&table);
	read_nm(WARD_LIB, &lib);
	size_t missing = 0;
	for (size_t i = 0; i < table.n; i++) {
		cr_expect(has(&lib, table.name[i]), "libward.so does not export %s", table.name[i]);
		missing += !has(&lib, table.name[i]);
	}
	cr_assert_eq(missing, 0, "%zu wrappers are not exported", missing);
}

Test(exports, nothing_else_is_exported)
{
	struct names table = { 0 }, lib = { 0 };
	read_table(&table);
	read_nm(WARD_LIB, &lib);
	size_t extra = 0;
	for (size_t i = 0; i < lib.n; i++) {
		cr_expect(has(&table, lib.name[i]), "libward.so exports %s, which is not in calls.def",
		          lib.name[i]);
		extra += !has(&table, lib.name[i]);
	}
	cr_assert_eq(extra, 0, "%zu symbols leak out of libward.so", extra);
}

Test(exports, exports_are_unversioned_functions)
{
	struct names lib = { 0 };
	read_nm(WARD_LIB, &lib);
	for (size_t i = 0; i < lib.n; i++) {
		cr_expect_null(lib.version[i], "%s is versioned (%s): programs would not bind to it",
		               lib.name[i], lib.version[i]);
		cr_expect(strchr("TWi", lib.type[i]) != NULL, "%s is not a function (nm type %c)",
		          lib.name[i], lib.type[i]);
	}
}

Test(exports, every_table_function_exists_in_libc)
{
	struct names table = { 0 }, libc = { 0 };
	read_table(&table);
	read_nm(LIBC_SO, &libc);
	size_t unknown = 0;
	for (size_t i = 0; i < table.n; i++) {
		cr_expect(has(&libc, table.name[i]), "%s is not a function of %s", table.name[i], LIBC_SO);
		unknown += !has(&libc, table.name[i]);
	}
	cr_assert_eq(unknown, 0);
}

/* A versioned function: GLIBC_2.x, or GLIBC_PRIVATE (a program still binds
 * those with dlvsym, and an unversioned export answers that lookup). */
static bool
public_function(const struct names *set, size_t i)
{
	return strchr("TWi", set->type[i]) != NULL && set->version[i] != NULL;
}

/* Public aliases deliberately left to libc, each with its reason. */
static bool
left_to_libc(const char *name)
{
	/* the private jemalloc's way to glibc's own sbrk (shim/jemalloc.map);
	 * sbrk's wrapper only counts, so nothing is decided through it */
	return strcmp(name, "__sbrk") == 0;
}

Test(exports, every_public_libc_alias_of_a_wrapped_function_is_wrapped)
{
	struct names table = { 0 }, libc = { 0 };
	read_table(&table);
	read_nm(LIBC_SO, &libc);
	size_t missing = 0, aliases = 0;
	for (size_t i = 0; i < libc.n; i++) {
		if (!public_function(&libc, i) || !has(&table, libc.name[i]))
			continue;
		for (size_t j = 0; j < libc.n; j++) {
			if (j == i || libc.address[j] != libc.address[i] || !public_function(&libc, j))
				continue;
			aliases++;
			if (!has(&table, libc.name[j]) && !left_to_libc(libc.name[j])) {
				cr_expect_fail("%s is %s in %s (same address), and calls.def does not wrap it", libc.name[j],
				               libc.name[i], LIBC_SO);
				missing++;
			}
		}
	}
	cr_expect_gt(aliases, 20, "the alias search found too little (%zu)", aliases);
	cr_assert_eq(missing, 0, "%zu public aliases of wrapped functions are not wrapped", missing);
}

/* TRAPS 10: libward.so brings nothing but itself into a process: jemalloc
 * is linked in (no libjemalloc.so, whose libstdc++ and static TLS would come
 * along), libgcc statically, libm not at all, libunwind only when
 * backtraces are asked for. */
Test(exports, needs_only_libc)
{
	char command[4096], line[4096];
	snprintf(command, sizeof(command), "readelf -d '%s'", WARD_LIB);
	FILE *p = popen(command, "r");
	cr_assert_not_null(p);
	size_t needed = 0;
	while (fgets(line, sizeof(line), p) != NULL) {
		if (strstr(line, "(NEEDED)") == NULL)
			continue;
		needed++;
		cr_expect_not_null(strstr(line, "[libc.so.6]"), "libward.so needs more than libc: %s", line);
	}
	cr_assert_eq(pclose(p), 0, "readelf failed");
	cr_assert_eq(needed, 1, "libward.so needs %zu libraries", needed);
}
