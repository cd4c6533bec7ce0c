/*
 * lifecycle.c: the shim's life in a process, the one top that calls down.
 *
 * - Start-up (constructor): remember LD_PRELOAD and WARD_* for every exec,
 *   read the configuration once (programs may clear their environment
 *   later), learn fds 0-2, join the launcher's tree.
 * - The image ends: at exit (destructor), at _exit/_Exit, just before an
 *   exec that is expected to succeed: the dump, and the tree record marked.
 * - Fork: the child's figures start from zero, with its own tree record.
 * - Real functions are looked up on first use (WARD_REAL): a process calls
 *   a few dozen of the table's functions, and looking all of them up at
 *   start-up cost more than the rest of start-up together.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"
#include "../core/children.h"
#include "../core/fdtable.h"
#include "../core/tree.h"

__thread int ward_busy __attribute__((tls_model("initial-exec")));
__thread int ward_in_vfork __attribute__((tls_model("initial-exec")));
/* In .data, not .bss, and sorted first there (the largest alignment in
 * .data): the page it shares with .got.plt is written by the loader's
 * relocations in every process, so the first look-ups (a read, then the
 * write) cost no fault; in .bss they were a zero page read, then a write,
 * on each of the two pages it straddled. */
void *ward_real_fn[WARD_NCALLS] __attribute__((section(".data.ward_real_fn"), aligned(128)));

extern char **environ;

static struct ward_tree *tree;            /* the launcher's shared figures (WARD_TREE) */
static struct ward_tree_record *record;   /* this image's record in it */

/* First use of a real function.  Not marked busy: a signal handler that
 * runs during the lookup makes calls of the program's that must be counted
 * (dlsym itself calls none of the wrapped functions; the loader's lock is
 * recursive if the handler needs a lookup too). */
void *
ward_real_resolve(enum ward_call_id id)
{
	void *fn = dlsym(RTLD_NEXT, ward_call_name(id));
	if (fn == NULL) {
		ward_say3("no next definition of ", ward_call_name(id), " to call");
		ward_syscall(SYS_exit_group, 127);
	}
	__atomic_store_n(&ward_real_fn[id], fn, __ATOMIC_RELEASE);
	return fn;
}

/* Take a record of the tree for this process image, whose parent is
 * ppid, and count there.  The figures so far come along at start-up (our
 * own memory), not after a fork or a failed exec (the old record is
 * someone else's, or finished).  True: counting in a fresh record. */
static bool
tree_join(pid_t pid, pid_t ppid, bool move_figures)
{
	if (tree == NULL)
		return false;
	record = ward_tree_claim(tree, pid, ppid, ward_config.exe);
	if (record == NULL)
		return false;
	ward_counters_place(record->slot, WARD_TREE_SLOTS, move_figures, &record->claimed);
	return true;
}

static void
tree_leave(uint32_t state)
{
	if (record != NULL)
		__atomic_store_n(&record->state, state, __ATOMIC_RELEASE);
}

/* New figures for this image (a fork child, or after a failed exec), whose
 * pid is pid and parent ppid.  A fresh record is all zero already: only
 * the process's own slots are reset (writing the record's zeros again
 * touched five of its pages, each a page of the shared file allocated). */
static void
figures_restart(pid_t pid, pid_t ppid)
{
	if (tree_join(pid, ppid, false)) {
		ward_counters_reset_private();
	} else {
		ward_counters_unplace(); /* the tree is full: the parent's record is not ours to reset */
		ward_counters_reset();
	}
	ward_alloc_figures_reset(); /* after the reset: it counts the heap's starting level */
	ward_dump_rearm();
}

static void
after_fork_child(void)
{
	pid_t parent = ward_config.pid; /* the process that forked (no getppid) */
	ward_config.pid = (pid_t)ward_syscall(SYS_getpid);
	figures_restart(ward_config.pid, parent);
	ward_children_reset();
	ward_spawn_after_fork_child();
	ward_scratch_after_fork_child();
	ward_checks_after_fork_child();
	ward_held_after_fork_child();
	ward_fdtable_reset_figures();
	ward_rawsys_after_fork();
}

/* pthread_atfork's prepare handler, in the parent before each fork: what
 * a child's exec needs is learnt here once (libward.so's path, the real
 * execve), not in every child's first exec, where the look-ups walked the
 * symbol tables of every object, none of whose pages a fork child has
 * mapped (a bash child's exec: some twenty faults).  A flag test each
 * fork after the first. */
static void
before_fork(void)
{
	ward_exec_learn_self();
	if (__builtin_expect(ward_real_fn[WARD_ID_execve] == NULL, 0))
		(void)WARD_REAL(execve);
}

/* fds 0-2, open when the shim starts, go into the FD table: one poll of
 * the three (POLLNVAL: not open; a timeout of 0 never waits, and no
 * events are asked for) instead of an fcntl each; the flags F_GETFL gave
 * were read by nothing (a dup copies them, as for any inherited fd the
 * table learns with flags 0).  If the poll fails (a signal), fcntl. */
static void
learn_standard_fds(void)
{
	struct pollfd fds[3] = { { .fd = 0 }, { .fd = 1 }, { .fd = 2 } };
	if (ward_syscall(SYS_poll, fds, 3, 0) >= 0) {
		for (int fd = 0; fd <= 2; fd++)
			if (!(fds[fd].revents & POLLNVAL))
				ward_fdtable_set(fd, WARD_FD_INHERITED, 0);
		return;
	}
	for (int fd = 0; fd <= 2; fd++)
		if (ward_syscall(SYS_fcntl, fd, F_GETFL) >= 0)
			ward_fdtable_set(fd, WARD_FD_INHERITED, 0);
}

static void
start(int argc, char **argv, char **envp)
{
	ward_exec_init(argc, argv, envp);
	ward_exec_name_self();
	ward_config_init(argc, argv);
	ward_scratch_init();
	ward_records_init();
	ward_checks_init();
	ward_exec_check_self();
	ward_limits_init();
	if (ward_config.policy != NULL)
		ward_alloc_set_limit(ward_config.policy->limit_memory);
	if (ward_config.stats_kind == WARD_DEST_FD)
		ward_output_watch(ward_config.stats_fd);
	if (ward_config.policy != NULL && !ward_config.log_to_file)
		ward_output_watch(2);
	const char *tree_path = ward_env("WARD_TREE");
	if (tree_path != NULL && tree_path[0] != '\0' && (tree = ward_tree_attach(tree_path)) != NULL)
		tree_join(ward_config.pid, (pid_t)ward_syscall(SYS_getppid), true); /* pid: learnt by ward_config_init */
	learn_standard_fds();
	pthread_atfork(before_fork, NULL, after_fork_child);
	ward_alloc_init();
	ward_config.allocator = ward_alloc_name(); /* chosen by now, even if nothing was allocated yet */
	if (ward_alloc_bad_choice() != NULL)
		ward_say3("WARD_MALLOC=", ward_alloc_bad_choice(), ": unknown allocator (jemalloc or libc); using jemalloc");
	ward_exec_init_done();
	ward_rawsys_init(); /* last: from here on, system calls outside libc trap (--strict) */
}

/* 0 not started, 1 starting, 2 started. */
int ward_started;

/* Start once, from the constructor or from the first checked call that
 * comes before it (another library's constructor: code that runs before
 * the shim's own is confined too).  Another thread waits for the start. */
static bool
start_once(int argc, char **argv, char **envp)
{
	int expected = 0;
	if (__atomic_compare_exchange_n(&ward_started, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		ward_busy++;
		start(argc, argv, envp);
		ward_busy--;
		__atomic_store_n(&ward_started, 2, __ATOMIC_RELEASE);
		return true;
	}
	if (ward_busy != 0)
		return false; /* the shim's own calls while it starts */
	while (__atomic_load_n(&ward_started, __ATOMIC_ACQUIRE) != 2)
		ward_syscall(SYS_sched_yield);
	return true;
}

bool
ward_start_early(void)
{
	return start_once(0, NULL, environ);
}

__attribute__((constructor)) static void
ward_start(int argc, char **argv, char **envp)
{
	start_once(argc, argv, envp);
}

__attribute__((destructor)) static void
ward_stop(void)
{
	if (!ward_in_foreign_child()) { /* a vfork child that called exit() */
		ward_dump("exit");
		tree_leave(WARD_TREE_EXITED);
	}
}

/* The library's DT_FINI (meson.build: -Wl,-fini=ward_fini).  The default,
 * crti's _fini, does nothing here either (destructors run from
 * .fini_array) but sits at the very end of .text: a 64 KB window of text
 * of its own that every process faulted in at exit.  This one is among
 * start-up's functions (shim/start-up.ld). */
void ward_fini(void) __attribute__((used));
void
ward_fini(void)
{
}

/* ---- processes ---- */

void
ward_after_fork_child(void)
{
	after_fork_child();
}

static bool
executable(const char *path)
{
	struct stat st;
	return ward_syscall(SYS_faccessat, AT_FDCWD, path, X_OK, 0) == 0 &&
	       ward_syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) == 0 && !S_ISDIR(st.st_mode);
}

/* executable(path), and is it an image exec can start: an ELF file or a
 * #! script?  (Other files fail with ENOEXEC, except through execvp, whose
 * fallback runs them with /bin/sh.)  The read of the head tells a
 * directory (EISDIR), so the stat is made only for a file that cannot be
 * opened, which gets the benefit of the doubt as to its head. */
static bool
startable_executable(const char *path)
{
	if (ward_syscall(SYS_faccessat, AT_FDCWD, path, X_OK, 0) != 0)
		return false;
	long fd = ward_syscall(SYS_open, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		struct stat st;
		return ward_syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) == 0 && !S_ISDIR(st.st_mode);
	}
	char head[4];
	long n = ward_syscall(SYS_read, fd, head, sizeof(head));
	ward_syscall(SYS_close, fd);
	return (n >= 2 && head[0] == '#' && head[1] == '!') || (n == 4 && memcmp(head, "\177ELF", 4) == 0);
}

/* Would exec find this file and start it?  Exec checks the same things;
 * this keeps an exec that fails from having dumped figures the image goes
 * on adding to. */
static bool
exec_will_work(const char *file, bool search_path)
{
	if (file == NULL)
		return true;
	if (!search_path)
		return startable_executable(file);
	if (strchr(file, '/') != NULL)
		return executable(file);
	struct ward_scratch *s = ward_scratch_enter();
	if (s == NULL)
		return true;
	char *candidate = s->exec_path;
	const char *path = getenv("PATH");
	if (path == NULL)
		path = "/bin:/usr/bin";
	bool found = false;
	for (const char *dir = path;; dir++) {
		const char *end = strchrnul(dir, ':');
		size_t n = (size_t)(end - dir);
		if (n == 0)
			n = 1, dir = ".";
		if (n + strlen(file) + 2 <= sizeof(s->exec_path)) {
			memcpy(candidate, dir, n);
			candidate[n] = '/';
			strcpy(candidate + n + 1, file);
			if ((found = executable(candidate)))
				break;
		}
		if (*end == '\0')
			break;
		dir = end;
	}
	ward_scratch_leave();
	return found;
}

bool
ward_before_exec(const char *file, bool search_path)
{
	if (!exec_will_work(file, search_path))
		return false;
	ward_dump("exec");
	tree_leave(WARD_TREE_EXECED); /* the record keeps this image's figures */
	return true;
}

void
ward_image_ends(const char *reason)
{
	ward_dump(reason);
	tree_leave(WARD_TREE_EXITED);
}

void
ward_exec_failed(enum ward_call_id id, bool dumped_before)
{
	if (dumped_before) /* the image goes on: new figures (and record) */
		figures_restart((pid_t)ward_syscall(SYS_getpid), (pid_t)ward_syscall(SYS_getppid));
	/* The call itself was counted before the dump; the new figures get
	 * its failure, so merged figures count it once. */
	struct ward_counter_slot *slot = ward_counters_slot();
	ward_counters_begin(slot);
	ward_counters_add(slot, WARD_IDX_ERRORS(id), 1);
	ward_counters_end(slot);
}
