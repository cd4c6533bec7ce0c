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
#include <sys/types.h>

#include "../core/counters.h"
#include "../core/syscall.h"

#include "layout.h"


/* ---- real functions ---- */
extern void *ward_real_fn[WARD_NCALLS];
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
};

extern __thread int ward_busy __attribute__((tls_model("initial-exec")));
/* Raised by vfork (vfork.S) for the child's whole life. */
extern __thread int ward_in_vfork __attribute__((tls_model("initial-exec")));

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
}

/* After the real call: keep its errno, open the counting window, count. */
static inline void
ward_frame_count(struct ward_frame *f, bool failed)
{
	f->saved_errno = errno;
	if (!f->counting)
		return;
	struct ward_counter_slot *s = f->slot = ward_counters_slot();
	ward_counters_begin(s);
	ward_counters_add(s, WARD_IDX_CALLS(f->id), 1);
	if (failed)
		ward_counters_add(s, WARD_IDX_ERRORS(f->id), 1);
}

static inline void
ward_frame_done(struct ward_frame *f)
{
	if (f->slot != NULL)
		ward_counters_end(f->slot);
	errno = f->saved_errno;
}

/* A pre hook refused the call: it fails with f->deny, counted as denied. */
static inline void
ward_frame_refuse(struct ward_frame *f)
{
	errno = f->deny;
	ward_frame_count(f, true);
	if (f->slot != NULL)
		ward_counters_add(f->slot, WARD_IDX_DENIED(f->id), 1);
	ward_frame_done(f);
}

/* ---- policy checks (enforce.c): 0, or the errno to fail with ---- */
/* The operations the policy restricts somewhere; the wrappers test it
 * before calling a check, so unrestricted calls cost one load and a test. */
extern unsigned int ward_restricted;
void ward_enforce_init(void);
const char *ward_enforce_default_stats(void);
bool ward_enforce_logs_to_stderr(void);
uint64_t ward_enforce_rules(void);
bool ward_enforce_active(void);
int ward_check_utimensat(struct ward_frame *f, int dirfd, const char *path, int flags);
/* limit children: 0, or EAGAIN (recorded) when another child is too many. */
int ward_check_children(struct ward_frame *f);
char *ward_thread_path_buffer(void);
int ward_check_wx(struct ward_frame *f, int prot);
extern uint64_t ward_fd_limit;
int ward_check_fds(struct ward_frame *f, int needed);
void ward_enforce_cwd_changed(void);
void ward_enforce_after_fork_child(void);
int ward_check_path(struct ward_frame *f, unsigned int ops, int dirfd, const char *path, bool follow);
int ward_check_open(struct ward_frame *f, int dirfd, const char *path, int flags, mode_t mode);
int ward_check_stat(struct ward_frame *f, int dirfd, const char *path, int flags, void *buf);
int ward_check_fopen(struct ward_frame *f, const char *path, const char *mode);
int ward_check_fd(struct ward_frame *f, unsigned int ops, int fd);
int ward_check_rename(struct ward_frame *f, int olddirfd, const char *old, int newdirfd, const char *new,
                      unsigned int flags);
int ward_check_link(struct ward_frame *f, int olddirfd, const char *old, int newdirfd, const char *new,
                    int flags);

/* limit memory: 0 to let the allocation go (audit), or ENOMEM with the
 * call counted as refused and errno set; record says whether this refusal
 * writes a record (the first one does). */
int ward_refuse_memory(enum ward_call_id id, uint64_t limit, bool record);

/* ---- the malloc family (alloc.c) ---- */
void ward_alloc_init(void);
void ward_alloc_set_limit(uint64_t bytes);
void ward_alloc_figures_reset(void);
uint64_t ward_alloc_live(const uint64_t value[WARD_COUNTERS_MAX]);
uint64_t ward_alloc_peak(const uint64_t value[WARD_COUNTERS_MAX]);
const char *ward_alloc_name(void);
const char *ward_alloc_bad_choice(void);

/* ---- exec (exec.c) ---- */
void ward_exec_init(char **envp);
size_t ward_exec_env_size(char *const *envp);
size_t ward_exec_preload_size(char *const *envp);
char *const *ward_exec_env(char *const *envp, char **out, char *preload, size_t preload_cap);
int ward_check_exec(struct ward_frame *f, int dirfd, const char *file, bool search_path);
void ward_spawn_after_fork_child(void);
int ward_refuse_unconfined(struct ward_frame *f, const char *path, const char *why);
bool ward_enforce_watches_unconfined(void);

/* ---- hooks (hooks.c) ---- */
typedef struct __dirstream DIR;
int ward_stream_fd(FILE *stream);
int ward_dir_fd(DIR *dir);
void ward_hook_fd_opened(struct ward_frame *f, int fd, int flags, int kind, const char *path);
void ward_hook_stream_opened(struct ward_frame *f, FILE *stream, const char *path);
void ward_hook_fd_pair(struct ward_frame *f, int r, const int fds[2], int flags, int kind);
void ward_hook_fd_dup(struct ward_frame *f, int r, int oldfd, int newfd, int cloexec);
void ward_hook_fd_fcntl(struct ward_frame *f, int r, int fd, int cmd, void *arg);
bool ward_hook_fd_closing(struct ward_frame *f, int fd);
void ward_hook_fd_closed(struct ward_frame *f, int r);
void ward_hook_fd_replacing(struct ward_frame *f, int newfd);
bool ward_hook_range_closing(struct ward_frame *f, unsigned int first, unsigned int last, int flags);
void ward_hook_range_closed(struct ward_frame *f, int r, unsigned int first, unsigned int last, int flags);
void ward_hook_all_streams_closing(struct ward_frame *f);
void ward_hook_io(struct ward_frame *f, int fd, ssize_t r, bool write);

/* ---- runtime (runtime.c) ---- */
/* Write the dump for this image once; reason: "exit", "_exit", "exec". */
void ward_dump(const char *reason);
/* The image ends (_exit): dump, and mark its tree record finished. */
void ward_image_ends(const char *reason);
/* Before an exec that is expected to succeed: dump and start from zero
 * (true), or do nothing (false: exec would fail). */
bool ward_before_exec(const char *file, bool search_path);
/* The exec returned: count the failure; if the figures were dumped before
 * it, this image may dump again (its new figures). */
void ward_exec_failed(enum ward_call_id id, bool dumped_before);
/* True in a vfork child (or a raw clone): shares the parent's memory. */
bool ward_in_foreign_child(void);
/* After _Fork in the child: figures start from zero. */
void ward_after_fork_child(void);
/* Stats destination fd guard (see runtime.c). */
void ward_guard_before_close(int fd);
void ward_guard_before_close_range(unsigned int first, unsigned int last);
void ward_guard_before_replace(int newfd);
bool ward_guard_is_private(int fd);
int ward_guard_private_fds(int out[2]);
/* Messages and records (runtime.c). */
void ward_say(const char *message);
const char *ward_exe_name(void);
bool ward_absolute(const char *value, char *out, size_t cap);
void ward_write_log(const char *buf, size_t len, const char *path);


#endif
