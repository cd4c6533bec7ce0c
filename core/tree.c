/*
 * tree: the shared file of a process tree's figures.  See tree.h.
 * Raw system calls only: the shim maps it from inside other programs.
 */
#include "tree.h"
#include "syscall.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ck_pr.h>

static struct ward_tree *
map(int fd)
{
	long p = ward_syscall(SYS_mmap, NULL, WARD_TREE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ward_syscall(SYS_close, fd);
	return (p < 0 && p > -4096) ? NULL : (struct ward_tree *)p;
}

struct ward_tree *
ward_tree_create(const char *path)
{
	long fd = ward_syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	if (ward_syscall(SYS_ftruncate, fd, (long)WARD_TREE_BYTES) != 0) {
		ward_syscall(SYS_close, fd);
		return NULL;
	}
	struct ward_tree *t = map((int)fd);
	if (t == NULL)
		return NULL;
	t->version = WARD_TREE_VERSION;
	t->record_size = sizeof(struct ward_tree_record);
	t->max_records = WARD_TREE_RECORDS;
	ck_pr_fence_store();
	ck_pr_store_64(&t->magic, WARD_TREE_MAGIC);
	return t;
}

struct ward_tree *
ward_tree_attach(const char *path)
{
	long fd = ward_syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	struct ward_tree *t = map((int)fd);
	if (t != NULL && (ck_pr_load_64(&t->magic) != WARD_TREE_MAGIC || t->version != WARD_TREE_VERSION ||
	                  t->record_size != sizeof(struct ward_tree_record))) {
		ward_tree_unmap(t);
		return NULL;
	}
	return t;
}

struct ward_tree_record *
ward_tree_claim(struct ward_tree *t, pid_t pid, pid_t ppid, const char *exe)
{
	uint32_t i = ck_pr_faa_32(&t->next_record, 1);
	if (i >= t->max_records)
		return NULL;
	struct ward_tree_record *r = &t->record[i];
	r->pid = pid;
	r->ppid = ppid;
	strncpy(r->exe, exe, sizeof(r->exe) - 1);
	ck_pr_fence_store();
	ck_pr_store_32(&r->state, WARD_TREE_RUNNING);
	return r;
}

void
ward_tree_unmap(struct ward_tree *t)
{
	if (t != NULL)
		ward_syscall(SYS_munmap, t, WARD_TREE_BYTES);
}
