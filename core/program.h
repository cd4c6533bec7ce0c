/*
 * program: what an exec would start, found the way the kernel and glibc
 * find it, so that the shim (every exec of a confined process) and the
 * launcher (the top command of `ward run`) decide the same thing.
 *
 *   (dirfd, file) -> the chain of files the kernel opens: the file, then
 *   each #! interpreter (every level, relative ones against the cwd as the
 *   kernel takes them), whether the exec would fail by itself (and with
 *   which errno), and whether the dynamic loader would start the final ELF
 *   without a preloaded library: statically linked, set-user-ID or
 *   set-group-ID to another id, file capabilities, a PT_INTERP that is not
 *   the system's ld.so, a 32-bit or other foreign ELF, a file that cannot
 *   be read (what it starts cannot be told: the caller denies).
 *
 * ward_program_search is execvp's PATH search: the first candidate that
 * execvp would actually start (glibc goes on after EACCES, ENOENT, ESTALE,
 * ENOTDIR, ENODEV and ETIMEDOUT, so a candidate whose interpreter or loader
 * is missing is skipped), with execvp's fallback of running a file the
 * kernel cannot start (ENOEXEC) under /bin/sh when shell_fallback is set.
 *
 * Only system calls (core/syscall.h), no allocation, nothing on the stack
 * beyond a few hundred bytes: the shim calls it from a vfork child and on
 * small stacks, with the struct in its per-thread scratch.  Nothing here
 * knows about policies or LD_PRELOAD; the caller decides each level.
 */
#ifndef WARD_CORE_PROGRAM_H
#define WARD_CORE_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>

#define WARD_PROGRAM_LEVELS 6  /* the file and 5 interpreters: the kernel says ELOOP beyond */
#define WARD_PROGRAM_NAME 256  /* the kernel reads a #! line from the first 256 bytes */

struct ward_program {
	int dirfd;                 /* the file's own (interpreters: the cwd) */
	const char *file;          /* the file exec'd (the caller's string) */
	char interp[WARD_PROGRAM_LEVELS - 1][WARD_PROGRAM_NAME];
	unsigned int levels;       /* files the kernel would open (and check for exec) */
	int error;                 /* 0: the exec would start it; else the errno it fails with,
	                            * after opening levels files (an exec refused by the policy
	                            * there is refused before this error, as the kernel's own
	                            * permission check comes first) */
	const char *unconfined;    /* why the loader would start it without a preload, or NULL */
	unsigned int unconfined_level; /* which level that is */
	int skipped;               /* search: the errno of the last candidate passed over, or 0
	                            * (what glibc's execvp leaves in errno when it goes on) */
	bool exec_stack;           /* the ELF asks for an executable stack (PT_GNU_STACK with PF_X) */
};

/* What execveat(dirfd, file) would start.  shell_fallback: execvp's
 * /bin/sh for a file the kernel cannot start. */
void ward_program_inspect(int dirfd, const char *file, bool shell_fallback, struct ward_program *p);
/* A 64-bit ELF (a library to dlopen) whose PT_GNU_STACK asks for an
 * executable stack: the loader then makes every thread's stack so. */
bool ward_program_wants_exec_stack(const char *path);
/* The path of level i (0: the file) and the dirfd it is relative to. */
const char *ward_program_level(const struct ward_program *p, unsigned int i, int *dirfd);
/* execvp's search of path_env (NULL: glibc's default "/bin:/usr/bin") for
 * file: the candidate it would start, written into out (cap bytes), with p
 * filled for it; NULL when none would start (p->error: what execvp fails
 * with).  A file with a slash is inspected as it is. */
const char *ward_program_search(const char *file, const char *path_env, bool shell_fallback, char *out,
                                size_t cap, struct ward_program *p);
/* The system's dynamic loader, the only PT_INTERP a preload reaches. */
#if defined(__x86_64__)
#define WARD_PROGRAM_LOADER "/lib64/ld-linux-x86-64.so.2"
#elif defined(__aarch64__)
#define WARD_PROGRAM_LOADER "/lib/ld-linux-aarch64.so.1"
#endif

#endif
