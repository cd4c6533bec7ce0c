/*
 * tree: figures of a whole process tree that survive SIGKILL.
 *
 * The launcher creates one file in shared memory (sparse: only the pages
 * processes touch take memory) and names it in WARD_TREE.  Every process of
 * the tree maps it at start-up, claims a record (pid, parent, program,
 * state) and counts straight into the record's counter slots: whatever
 * ends the process, its figures up to its last call are already there.
 * A process image that execs keeps its record (state "exec"); the new image
 * and every fork child claim new ones.  After the run the launcher reads
 * all records.
 */
#ifndef WARD_CORE_TREE_H
#define WARD_CORE_TREE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "counters.h"

#define WARD_TREE_MAGIC 0x7761726474726565ull /* "wardtree" */
#define WARD_TREE_VERSION 3 /* 2: 1024 counters a slot; 3: claimed */
#define WARD_TREE_SLOTS 4         /* thread slots per process; more threads share one (< 32: claimed's bits) */
#define WARD_TREE_RECORDS 16384   /* processes per run */

enum ward_tree_state { WARD_TREE_FREE, WARD_TREE_RUNNING, WARD_TREE_EXITED, WARD_TREE_EXECED };

struct ward_tree_record {
	uint32_t state;
	int32_t pid;
	int32_t ppid;
	uint32_t claimed;   /* bit k: slot k was handed out (counters.h); the launcher reads only those */
	char exe[64];
	struct ward_counter_slot slot[WARD_TREE_SLOTS + 1];
};

struct ward_tree {
	uint64_t magic;
	uint32_t version;
	uint32_t record_size;   /* both sides must agree on the layout */
	uint32_t max_records;
	uint32_t next_record;   /* claimed so far (may exceed max: those went unrecorded) */
	uint64_t pad[5];
	struct ward_tree_record record[];
};

#define WARD_TREE_BYTES (sizeof(struct ward_tree) + (size_t)WARD_TREE_RECORDS * sizeof(struct ward_tree_record))

/* Launcher: create the file at path (mode 0600); map it.  NULL on error. */
struct ward_tree *ward_tree_create(const char *path);
/* A process of the tree: map the file named by WARD_TREE.  NULL if absent
 * or not a ward tree of this version. */
struct ward_tree *ward_tree_attach(const char *path);
/* Claim the next record for this process image; NULL when all are taken. */
struct ward_tree_record *ward_tree_claim(struct ward_tree *tree, pid_t pid, pid_t ppid, const char *exe);
void ward_tree_unmap(struct ward_tree *tree);

#endif
