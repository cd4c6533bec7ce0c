/*
 * shim.h: what the interposition layer shares internally.
 *
 * Every wrapper runs the same frame: enter (is the shim active on this
 * thread, save errno), pre hook, real call, count, post hook, restore errno.
 * The counter layout: three counters per intercepted function (calls,
 * errors, denied), then the process-wide file figures.
 */
#ifndef WARD_SHIM_H
#define WARD_SHIM_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "../core/counters.h"
#include "../core/fdtable.h"
#include "../core/procfd.h"
#include "../core/program.h"
#include "../core/resolve.h"
#include "../core/stats.h"
#include "../core/syscall.h"
#include "../policy/policy.h"

#include "layout.h"


/* Internal data the wrappers read on every call, declared hidden like its
 * definitions (-fvisibility=hidden covers only those): the compiler then
 * addresses it directly, not through the GOT (one load fewer each). */
#define WARD_HIDDEN __attribute__((visibility("hidden")))

/* ---- real functions ---- */
extern void *ward_real_fn[WARD_NCALLS] WARD_HIDDEN;
void *ward_real_resolve(enum ward_call_id id);
#define WARD_REAL(name)                                                          \
	((__typeof__(&name))(__builtin_expect(ward_real_fn[WARD_ID_##name] != NULL, 1) \
	                         ? ward_real_fn[WARD_ID_##name]                   \
	                         : ward_real_resolve(WARD_ID_##name)))

/* ---- the frame every wrapper runs ---- */
struct ward_frame {
	bool active;        /* false inside the shim's own work: pass through */
	bool counting;      /* active, and not in a vfork child (whose memory is the parent's) */
	int saved_errno;
	enum ward_call_id id;
	struct ward_counter_slot *slot;
	int closing_fd;     /* close-type calls: the fd being closed */
	int deny;           /* set by a pre hook: fail the call with this errno */
	bool done;          /* set by a pre hook that made the call itself... */
	long result;        /* ...with this result */
	int done_errno;     /* ...and this errno */
	struct ward_scratch *held; /* a check's act (checks.c), held until the call is done */
};

extern __thread int ward_busy __attribute__((tls_model("initial-exec")));
/* Raised by vfork (vfork.S) for the child's whole life. */
extern __thread int ward_in_vfork __attribute__((tls_model("initial-exec")));

/* src into dst[cap] as snprintf(dst, cap, "%s", src) would put it (cut to
 * cap - 1 bytes); true when all of it fit.  Start-up copies names this
 * way: printf's code and tables are pages a process need not touch. */
static inline bool
ward_copy_text(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap);
	bool fits = n < cap;
	if (!fits)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return fits;
}

static inline void
ward_frame_enter(struct ward_frame *f, enum ward_call_id id)
{
	f->saved_errno = errno;
	f->active = ward_busy == 0;
	f->counting = f->active && ward_in_vfork == 0;
	f->id = id;
	f->slot = NULL;
	f->closing_fd = -1;
	f->deny = 0;
	f->done = false;
	f->held = NULL;
}

/* The calls figures of one call in a slot the caller found (shared: s's
 * own flag, read once), the window opened when the slot is the thread's
 * own: the wrappers' template keeps s and shared in registers across the
 * real call's post hook, and closes the window itself. */
static inline __attribute__((always_inline)) void
ward_frame_add_calls(struct ward_counter_slot *s, bool shared, enum ward_call_id id, bool failed)
{
	if (__builtin_expect(!shared, 1)) {
		ward_counters_raw_add(&s->window, 1);
		ward_counters_raw_add(&s->value[WARD_IDX_CALLS(id)], 1);
		if (failed)
			ward_counters_raw_add(&s->value[WARD_IDX_ERRORS(id)], 1);
	} else {
		ward_counters_add(s, WARD_IDX_CALLS(id), 1);
		if (failed)
			ward_counters_add(s, WARD_IDX_ERRORS(id), 1);
	}
}

/* After the real call: keep its errno, open the counting window, count.
 * Always inlined: out of line it cost some 33 instructions a call (the
 * call, a second errno lookup, spills); in line at each wrapper it is a
 * handful, `failed` mostly a constant or one test. */
static inline __attribute__((always_inline)) void
ward_frame_count_as(struct ward_frame *f, enum ward_call_id id, bool failed)
{
	f->saved_errno = errno;
	if (!f->counting)
		return;
	struct ward_counter_slot *s = f->slot = ward_counters_slot();
	ward_frame_add_calls(s, s->shared, id, failed); /* the thread's own slot: one test, then plain adds */
}

/* The same for the frame's own id; the wrappers' template passes its id as
 * a constant (the counters' offsets are then immediates). */
static inline __attribute__((always_inline)) void
ward_frame_count(struct ward_frame *f, bool failed)
{
	ward_frame_count_as(f, f->id, failed);
}

void ward_act_release(struct ward_frame *f);

/* A check made the call itself: the wrapper returns result (errno set by
 * the raw call when it failed) without calling libc. */
static inline void
ward_frame_complete(struct ward_frame *f, long result)
{
	f->done = true;
	f->result = result;
	f->done_errno = result < 0 ? errno : f->saved_errno;
}

static inline void
ward_frame_done(struct ward_frame *f)
{
	if (__builtin_expect(f->held != NULL, 0))
		ward_act_release(f);
	if (f->slot != NULL)
		ward_counters_end(f->slot);
	errno = f->saved_errno;
}

/* A pre hook refused the call: it fails with f->deny, counted as denied;
 * a negated errno is what the kernel would say first (EEXIST, ENOENT):
 * a plain failure, not a denial. */
void ward_frame_refuse_in_vfork(struct ward_frame *f);

/* Out of line (hooks.c): the refused path is cold, and inlined in each
 * wrapper it made them 16 KB larger in all. */
void ward_frame_refuse(struct ward_frame *f);

/* ---- what the process was told (config.c), read once at start-up ---- */
enum ward_dest_kind { WARD_DEST_NONE, WARD_DEST_FD, WARD_DEST_FILE, WARD_DEST_DIR };
struct ward_config {
	/* Small (the paths are pointers, "" when unset), so that all of it
	 * shares the page of .data the loader's relocations write in every
	 * process (shim/start-up.ld): each page written is a fault. */
	pid_t pid;                     /* this process (a fork child updates it) */
	enum ward_mode mode;
	/* the policy; NULL: observe only */
	struct ward_policy *policy;
	struct ward_matcher *matcher;
	int image_fd;                  /* preloaded directly: the sealed memfd holding it, or -1 */
	/* violation records */
	bool log_to_file;              /* WARD_LOG names a file (JSON lines); else stderr */
	bool backtrace;
	/* the dump */
	enum ward_dest_kind stats_kind;
	enum ward_stats_format stats_format;
	int stats_fd;                  /* WARD_DEST_FD: the descriptor named (2 for stderr) */
	const char *allocator;         /* which allocator serves the malloc family */
	char exe[256];                 /* the program's name: basename of argv[0] */
	const char *records_path;      /* WARD_RECORDS: the launcher's copy of every record */
	const char *image_path;        /* the tree's compiled policy: never writable from the tree */
	const char *log_path;
	const char *stats_path;        /* WARD_DEST_FILE template or WARD_DEST_DIR folder */
};
extern struct ward_config ward_config;
/* The operations the policy restricts somewhere; the wrappers test it
 * before calling a check, so unrestricted calls cost one load and a test. */
extern unsigned int ward_restricted WARD_HIDDEN;
void ward_config_init(int argc, char **argv);
/* The program wants descriptor fd (dup2 onto it): the image moves away. */
void ward_config_image_fd_wanted(int fd);
/* Before an exec: the image's descriptor is inherited (never close-on-exec). */
bool ward_absolute(const char *value, char *out, size_t cap);

/* ---- output (output.c): messages, records, the stats descriptor guard ---- */
void ward_say(const char *message);
void ward_say3(const char *a, const char *b, const char *c);
void ward_write_all(int fd, const char *buf, size_t len);
void ward_write_log(const char *buf, size_t len, const char *path);
void ward_output_watch(int fd);
int ward_output_fd(int fd);
void ward_guard_before_close(int fd);
void ward_guard_before_close_range(unsigned int first, unsigned int last);
void ward_guard_before_replace(int newfd);
#define WARD_OWN_FDS 6
bool ward_guard_is_private(int fd);
/* Bit fd % 64 of every descriptor the guard watches or the shim owns: when
 * it is clear, fd is none of them (one test on every close). */
extern uint64_t ward_guard_fd_bits WARD_HIDDEN;
static inline bool
ward_guard_may_concern(int fd)
{
	return (__atomic_load_n(&ward_guard_fd_bits, __ATOMIC_RELAXED) >> (fd & 63)) & 1;
}
int ward_guard_private_fds(int out[WARD_OWN_FDS]);
void ward_output_own(int fd, bool own);

/* ---- held descriptors (held.c): the program's closes and replacements ---- */
bool ward_held_close(struct ward_frame *f, int fd);
/* ward_held_close's halves for the lean close, which makes the call itself:
 * announced with fd not held (true: close it, then ward_held_close_end), or
 * nothing done (false: the full way) */
bool ward_held_close_begin(int fd);
void ward_held_close_end(void);
bool ward_held_replace(struct ward_frame *f, int fd, int newfd, int flags);
bool ward_held_close_range(unsigned int first, unsigned int last, int flags, const int *own, int own_n);
void ward_held_after_fork_child(void);

/* ---- per-thread scratch (scratch.c) ---- */
#define WARD_SCRATCH_NESTING 2
#define WARD_RECORD_MAX 4096     /* one violation record, one write */
#define WARD_BACKTRACE_FRAMES 32
#define WARD_SPAWN_ACTIONS_MAX 64 /* file actions of one posix_spawn (more: refused) */
struct ward_scratch {
	struct stat found;
	char resolved[WARD_NAME_MAX] __attribute__((aligned(64))); /* (aligned: scanned 32 bytes at a time, core/path) */
	struct ward_resolve_scratch resolve;
	char fd_target[WARD_PATH_MAX];
	char anchor_link[WARD_PATH_MAX];             /* what an anchor of core/exact names now (held.c) */
	char record[WARD_RECORD_MAX];
	char record_cwd[WARD_NAME_MAX];
	char rule[PATH_MAX + 32];
	char by[PATH_MAX + 64];
	char ops_text[64];
	void *frames[WARD_BACKTRACE_FRAMES];
	char exec_path[WARD_PATH_MAX];
	struct ward_program exec_program;
	char walk_path[WARD_PATH_MAX];
	/* what the call is made on instead of its own path (checks.c) */
	struct ward_act {
		int fd;                                      /* -1: none */
		unsigned short name_at;                      /* NAME's offset in path; 0: the file itself */
		char path[WARD_PROCFD_NAME_MAX + 256 + 2];   /* /proc/self/fd/N[/NAME][/] */
	} act[2];
	char act_mode[8];                            /* fopen's mode for the reopen */
	/* posix_spawn's file actions as the child runs them (spawn_actions.c) */
	struct {
		posix_spawn_file_actions_t actions;
		unsigned char list[WARD_SPAWN_ACTIONS_MAX][32]; /* glibc's struct __spawn_action, 32 bytes */
		int held[WARD_SPAWN_ACTIONS_MAX];
		int nheld;
		char strings[16384]; /* the actions' paths, copied */
		size_t nstrings;
	} spawn;
};
void ward_scratch_init(void);
/* This thread's next scratch set, or NULL (nested too deep, no memory):
 * the caller then refuses.  Every enter that succeeds has one leave. */
struct ward_scratch *ward_scratch_enter(void);
/* A fork child: the process's first exec room is free again. */
void ward_scratch_after_fork_child(void);
/* The innermost set this thread has entered, or NULL. */
struct ward_scratch *ward_scratch_current(void);
void ward_scratch_leave(void);
/* An exec's environment, whatever its size, never on the caller's stack. */
void *ward_scratch_exec_room_enter(size_t bytes);
void ward_scratch_exec_room_leave(void);

/* ---- records and refusals (records.c) ---- */
struct ward_record {
	const char *decision, *op, *path, *by, *rule;
	enum ward_call_id call;
	bool quiet;
	pid_t pid;
};
struct ward_refusal {
	const char *op;    /* the operations refused, or the limit's name */
	const char *what;  /* the path, or the limit's value */
	const char *by;    /* for the human line: "rule FILE:LINE", "default deny", ... */
	const char *rule;  /* for JSON: "FILE:LINE", "default", ... */
	bool quiet;        /* deny quiet: counted, no record on stderr or WARD_LOG */
	bool audit;        /* let the call go whatever the mode (unconfined-exec audit) */
	int err;           /* the errno the call fails with */
};
void ward_records_init(void);
void ward_record_write(struct ward_scratch *s, const struct ward_record *r);
void ward_record_probe(struct ward_frame *f, struct ward_scratch *s, const char *op, const char *path,
                       const char *rule);
/* A line for the launcher's records only (not a violation): decision
 * "kernel-confined" for what the kernel alone holds under --strict. */
void ward_record_note(struct ward_frame *f, struct ward_scratch *s, const char *decision, const char *op,
                      const char *path, const char *rule);
/* Record a refusal (s may be NULL: no record) and say what the call does:
 * fail with why->err (enforce), 0 (audit), or never return (kill). */
int ward_refuse(struct ward_frame *f, struct ward_scratch *s, const struct ward_refusal *why);

/* ---- policy checks (checks.c): 0, the errno to fail with, or a negated
 * errno the kernel would give first (a plain failure, no denial) ---- */
void ward_checks_init(void);
void ward_checks_cwd_changed(void);
void ward_checks_after_fork_child(void);
int ward_check_path(struct ward_frame *f, unsigned int ops, int dirfd, const char *path, bool follow);
/* The same for a check made once (start-up's): no cache read or filled. */
int ward_check_path_once(struct ward_frame *f, unsigned int ops, int dirfd, const char *path, bool follow);
int ward_check_prefix(struct ward_frame *f, unsigned int ops, int dirfd, const char *path, size_t len);
int ward_check_open(struct ward_frame *f, int dirfd, const char **path, int flags, mode_t mode);
/* The same decisions as ward_check_path, then the call is pointed at exactly
 * what was decided: *path is replaced by a /proc/self/fd name of a
 * descriptor the check opened without following any symlink (held in the
 * frame until the call is done).  which: 0, or 1 for a call's second path. */
int ward_check_act(struct ward_frame *f, unsigned int ops, int dirfd, const char **path, bool follow, int which);
/* The same for an *at call: when the call acts on a name in a directory,
 * *dirfd becomes that directory's descriptor and *path the bare name, so
 * the kernel does not walk /proc to reach it. */
int ward_check_act_at(struct ward_frame *f, unsigned int ops, int *dirfd, const char **path, bool follow, int which);
/* make_stream: fopen (the stream is made here, on the file opened);
 * false: freopen (libc reopens the stream on it). */
int ward_check_fopen(struct ward_frame *f, const char **path, const char **mode, bool make_stream);
int ward_check_opendir(struct ward_frame *f, const char **path);
int ward_check_stat(struct ward_frame *f, int dirfd, const char *path, int flags, void *buf);
int ward_check_access(struct ward_frame *f, int dirfd, const char *path, int mode, int flags);
int ward_check_open_by_name(struct ward_frame *f, int dirfd, const char *path, int flags);
int ward_check_reopen(struct ward_frame *f, const char *mode, int fd);
int ward_check_fd(struct ward_frame *f, unsigned int ops, int *fd);
int ward_check_mktemp(struct ward_frame *f, char *template, int suffixlen, int flags, bool dir);
/* olddirfd/newdirfd: the *at forms' own descriptors (replaced like
 * ward_check_act_at does), or NULL for rename/link (AT_FDCWD). */
int ward_check_rename(struct ward_frame *f, int *olddirfd, const char **old, int *newdirfd, const char **new,
                      unsigned int flags);
int ward_check_link(struct ward_frame *f, int *olddirfd, const char **old, int *newdirfd, const char **new,
                    int flags);
int ward_check_utimensat(struct ward_frame *f, int *dirfd, const char **path, int flags);
void ward_act_hold(struct ward_frame *f, struct ward_scratch *s);
int ward_act_detach(struct ward_frame *f, const char **file, char copy[WARD_PROCFD_NAME_MAX], const char *asked,
                    struct ward_scratch **kept);
void ward_act_give_back(struct ward_scratch *s);
int ward_check_program(struct ward_frame *f, int dirfd, const char *path, const char **act);

/* ---- limits (limits.c) ---- */
extern uint64_t ward_fd_limit WARD_HIDDEN;
void ward_limits_init(void);
/* limit children: 0, or EAGAIN (recorded) when another child is too many. */
int ward_check_children(struct ward_frame *f);
int ward_check_fds(struct ward_frame *f, int needed);
int ward_check_wx(struct ward_frame *f, int prot);
bool ward_limits_wx_deny(void);
/* memory wx deny and an executable stack asked for by path (exec, dlopen) */
int ward_check_exec_stack(struct ward_frame *f, const char *path);
/* limit memory: 0 to let the allocation go (audit), or ENOMEM with the
 * call counted as refused and errno set; record says whether this refusal
 * writes a record (the first one does). */
int ward_refuse_memory(enum ward_call_id id, uint64_t limit, bool record);
int ward_refuse_unconfined(struct ward_frame *f, const char *path, const char *why);
bool ward_limits_watch_unconfined(void);

/* ---- the malloc family (alloc.c) ---- */
void ward_alloc_init(void);
void ward_alloc_set_limit(uint64_t bytes);
/* After the counters were reset: the heap's level now is the new image's start. */
void ward_alloc_figures_reset(void);
/* Before the dump: the dumping thread's heap bytes into its slot (alloc.c). */
void ward_alloc_fold(void);
const char *ward_alloc_name(void);
const char *ward_alloc_bad_choice(void);

/* ---- exec (exec.c) ---- */
void ward_exec_init(int argc, char **argv, char **envp);
void ward_exec_init_done(void);
/* What the process was told at start-up: WARD_* as kept for the tree,
 * other names from the initial environment. */
const char *ward_env(const char *name);
void ward_exec_keep(const char *name, const char *value);
bool ward_exec_audit_library(void);
/* The first process of the tree (the shim was not in its parent). */
bool ward_exec_first_process(void);
size_t ward_exec_env_size(char *const *envp);
size_t ward_exec_preload_size(char *const *envp);
char *const *ward_exec_env(char *const *envp, char **out, char *preload, size_t preload_cap);
/* The same into *env, built in this thread's exec room (scratch.c), with
 * extra slots left for ward_exec_env_add; false (errno ENOMEM): no room,
 * the exec is not made.  Else ward_exec_env_done once the exec is made. */
bool ward_exec_env_room(char *const *envp, size_t extra, char *const **env);
void ward_exec_env_done(void);
/* The exec check: 0, or the errno the exec must fail with.  *file may be
 * replaced by a /proc/self/fd name of exactly the program decided (held
 * in the frame: ward_act_detach before the real exec). */
int ward_check_exec(struct ward_frame *f, int dirfd, const char **file, bool search_path);
void ward_spawn_after_fork_child(void);
/* posix_spawn's file actions, in the order the child runs them (spawn_actions.c). */
/* *child_dir: where the child will be when it execs (AT_FDCWD, or a
 * descriptor the caller closes); *use: the actions to spawn with (the
 * program's, or the shim's own list with the opens made: held in the
 * frame until the call is done). */
int ward_check_spawn_actions(struct ward_frame *f, const void *actions, int *child_dir, const void **use);
/* Would the child's actions close (or replace) descriptor fd before its exec? */
bool ward_spawn_actions_close(const void *actions, int fd);
/* The descriptors a spawn's actions were opened on, closed (ward_act_release). */
void ward_spawn_actions_release(struct ward_scratch *s);
char *ward_exec_comm(char *out, size_t cap, const char *asked);
void ward_exec_env_add(char **envp, char *entry);
void ward_exec_name_self(void);
void ward_exec_check_self(void);
char *ward_exec_spare_room(size_t *cap);
bool ward_exec_started_confined(void);
/* Before a fork (pthread_atfork's prepare): libward.so's path learnt in
 * the parent, once, not in every child's first exec. */
void ward_exec_learn_self(void);

/* ---- hooks (hooks.c) ---- */
typedef struct __dirstream DIR;
int ward_stream_fd(FILE *stream);
int ward_dir_fd(DIR *dir);
bool ward_empty_path(const char *path);
bool ward_null_path(const char *path);
const char *ward_shm_name(const char *name);
/* What an open with these flags needs (O_CREAT: create as well). */
unsigned int ward_checks_ops_of_open(int flags);
void ward_hook_stream_opened(struct ward_frame *f, FILE *stream);
void ward_hook_fd_pair(struct ward_frame *f, int r, const int fds[2], int flags, int kind);
void ward_hook_fd_dup(struct ward_frame *f, int r, int oldfd, int newfd, int cloexec);
void ward_hook_fd_fcntl(struct ward_frame *f, int r, int fd, int cmd, void *arg);
bool ward_hook_fd_closing_guarded(struct ward_frame *f, int fd);
void ward_hook_fd_replacing(struct ward_frame *f, int newfd);
bool ward_hook_range_closing(struct ward_frame *f, unsigned int first, unsigned int last, int flags);
void ward_hook_range_closed(struct ward_frame *f, int r, unsigned int first, unsigned int last, int flags);
void ward_hook_all_streams_closing(struct ward_frame *f);

/* The hooks every open and close runs, inline (hooks.c has the rest). */
static inline void
ward_hook_fd_opened(struct ward_frame *f, int fd, int flags, int kind)
{
	if (fd < 0)
		return;
	ward_fdtable_set(fd, kind, flags);
	ward_counters_add(f->slot, WARD_IDX_FILES_OPENED, 1);
}

/* Before a close: true when fd is the shim's own (the wrapper then reports
 * success without closing).  The entry is cleared before the real close so
 * that another thread which gets the same number back records it after us. */
static inline bool
ward_hook_fd_closing(struct ward_frame *f, int fd)
{
	if (!f->counting || fd < 0)
		return false;
	if (__builtin_expect(ward_guard_may_concern(fd), 0))
		return ward_hook_fd_closing_guarded(f, fd);
	ward_fdtable_clear(fd);
	f->closing_fd = fd;
	return false;
}

static inline void
ward_hook_fd_closed(struct ward_frame *f, int r)
{
	if (r == 0 && f->closing_fd >= 0)
		ward_counters_add(f->slot, WARD_IDX_FILES_CLOSED, 1);
}

/* ---- the dump (dump.c) ---- */
/* Write the dump for this image once; reason: "exit", "_exit", "exec", "kill". */
void ward_dump(const char *reason);
/* This image may dump again (new figures after a failed exec or a fork). */
void ward_dump_rearm(void);
__attribute__((noreturn)) void ward_dump_and_kill(void);

/* ---- lifecycle (lifecycle.c) ---- */
/* The image ends (_exit): dump, and mark its tree record finished. */
void ward_image_ends(const char *reason);
/* The shim has started (2), or is starting (1).  A call that needs the
 * configuration before the constructor ran starts it first: true when it
 * may go on to decide (false: the shim's own call while it starts). */
extern int ward_started WARD_HIDDEN;
bool ward_start_early(void);
static inline bool
ward_ready(void)
{
	return __builtin_expect(__atomic_load_n(&ward_started, __ATOMIC_ACQUIRE) == 2, 1) || ward_start_early();
}
/* Before an exec that is expected to succeed: dump and start from zero
 * (true), or do nothing (false: exec would fail). */
bool ward_before_exec(const char *file, bool search_path);
/* The exec returned: count the failure; if the figures were dumped before
 * it, this image may dump again (its new figures). */
void ward_exec_failed(enum ward_call_id id, bool dumped_before);
/* True in a vfork child (or a raw clone): shares the parent's memory. */
static inline bool
ward_in_foreign_child(void)
{
	return ward_in_vfork != 0 || (ward_config.pid != 0 && ward_syscall(SYS_getpid) != ward_config.pid);
}
/* vfork's two halves around the raw system call (wrappers.c). */
int ward_vfork_check_as(enum ward_call_id id);
long ward_vfork_parent_as(enum ward_call_id id, long r);
/* After _Fork in the child: figures start from zero. */
void ward_after_fork_child(void);

/* ---- system calls made outside libc, under --strict (rawsys.c) ---- */
extern bool ward_rawsys_on;
void ward_rawsys_init(void);
void ward_rawsys_after_fork(void);
/* prctl(PR_SET_SYSCALL_USER_DISPATCH) under --strict: refused (EPERM, a record); else 0. */
int ward_rawsys_check_prctl(struct ward_frame *f, int option);
/* The raw system call this thread's SIGSYS handler is deciding (its name
 * for the record), or NULL. */
const char *ward_rawsys_call_name(void);
/* WARD_STRICT=1: the kernel holds this tree (ward run --strict). */
bool ward_strict(void);

/* The one export marker: only interposed symbols leave libward.so. */
#define WARD_EXPORT __attribute__((visibility("default")))

#endif
