/*
 * dumps: split text into dump lines and read figures (see dumps.h).
 */
#define _GNU_SOURCE
#include "dumps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define DUMP_PREFIX "{\"ward_stats_version\""

static void
read_dump(struct dump *d, const char *line, size_t len)
{
	uint64_t pid = 0;
	memset(d, 0, sizeof(*d));
	d->json = strndup(line, len);
	d->valid = json_valid(d->json, len) && json_get_u64(d->json, "pid", &pid) &&
	           json_get_str(d->json, "exe", d->exe, sizeof(d->exe)) &&
	           json_get_str(d->json, "reason", d->reason, sizeof(d->reason));
	d->pid = (long)pid;
}

void
dumps_parse(const char *text, struct dump_set *set)
{
	size_t cap = 8;
	set->n = 0;
	set->d = calloc(cap, sizeof(struct dump));
	for (const char *line = text; line != NULL && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (strncmp(line, DUMP_PREFIX, strlen(DUMP_PREFIX)) == 0) {
			if (set->n == cap)
				set->d = realloc(set->d, (cap *= 2) * sizeof(struct dump));
			read_dump(&set->d[set->n++], line, len);
		}
		line = nl ? nl + 1 : NULL;
	}
}

void
dumps_free(struct dump_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->d[i].json);
	free(set->d);
	set->d = NULL;
	set->n = 0;
}

const struct dump *
dumps_find(const struct dump_set *set, long pid, const char *reason)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->d[i].pid == pid && (reason == NULL || strcmp(set->d[i].reason, reason) == 0))
			return &set->d[i];
	return NULL;
}

size_t
dumps_count(const struct dump_set *set, long pid)
{
	size_t n = 0;
	for (size_t i = 0; i < set->n; i++)
		n += set->d[i].pid == pid;
	return n;
}

static uint64_t
figure(const struct dump *d, const char *group, const char *name, const char *field)
{
	char path[256];
	uint64_t v = 0;
	if (field != NULL)
		snprintf(path, sizeof(path), "%s.%s.%s", group, name, field);
	else
		snprintf(path, sizeof(path), "%s.%s", group, name);
	return json_get_u64(d->json, path, &v) ? v : 0;
}

uint64_t
dump_calls(const struct dump *d, const char *call)
{
	return figure(d, "calls", call, "calls");
}

uint64_t
dump_errors(const struct dump *d, const char *call)
{
	return figure(d, "calls", call, "errors");
}

uint64_t
dump_files(const struct dump *d, const char *field)
{
	return figure(d, "files", field, NULL);
}
