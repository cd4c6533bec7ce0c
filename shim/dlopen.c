/*
 * dlopen.c: loading a library reads its file (SPEC 5.1 `read`), and its
 * constructors run inside dlopen, so the decision must come before the
 * loader maps anything.
 *
 * A name with a '/' is the path the loader opens: decided as a read of it.
 * A bare name is searched by the loader, and reproducing that search exactly
 * (hwcaps subdirectories, $ORIGIN, DF_1_NODEFLIB, the cache's order between
 * RUNPATH and the default directories) would be a second loader to keep in
 * step with glibc.  Instead the decision covers every file the loader could
 * pick: an object already loaded under that name is no new read (RTLD_NOLOAD
 * finds it without loading or running anything); otherwise each candidate
 * that exists is decided, and one denied candidate refuses the call.  The
 * candidates are the name in every directory of the caller's search list
 * (dlinfo RTLD_DI_SERINFO: RPATH, LD_LIBRARY_PATH as the loader read it at
 * start-up, RUNPATH, the default directories; $ORIGIN expanded), in each of
 * their glibc-hwcaps and legacy hwcap subdirectories, and every path
 * /etc/ld.so.cache gives for the name.  This can refuse a load that would
 * have picked an allowed copy first (a denied copy shadowed by an allowed
 * one); it never lets a denied file be loaded.
 *
 * Not covered: the libraries the loaded one needs (DT_NEEDED) are found and
 * loaded by the loader without a decision.
 *
 * dlopen reports failure through dlerror(), not errno: after a refusal this
 * thread's next dlerror() says so.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "routes.h"
#include "../core/syscall.h"
#include "../policy/policy.h"

#define CANDIDATE_MAX WARD_PATH_MAX

static __thread bool refusal_pending __attribute__((tls_model("initial-exec")));
static char refusal_message[] = "cannot open shared object file: Permission denied (refused by the ward policy)";

char *
ward_dlopen_refusal_message(void)
{
	if (!refusal_pending)
		return NULL;
	refusal_pending = false;
	return refusal_message;
}

/* Subdirectories the loader may look in before a directory itself. */
static const char *const subdirs[] = {
	"glibc-hwcaps/x86-64-v4/", "glibc-hwcaps/x86-64-v3/", "glibc-hwcaps/x86-64-v2/",
	"tls/avx512_1/x86_64/", "tls/avx512_1/haswell/", "tls/avx512_1/xeon_phi/", "tls/avx512_1/",
	"tls/x86_64/", "tls/haswell/", "tls/xeon_phi/", "tls/",
	"avx512_1/x86_64/", "avx512_1/haswell/", "avx512_1/xeon_phi/", "avx512_1/",
	"x86_64/", "haswell/", "xeon_phi/", "",
};

static bool
present(const char *path)
{
	int saved = errno;
	bool yes = ward_syscall(SYS_faccessat, AT_FDCWD, path, F_OK) == 0;
	errno = saved;
	return yes;
}

/* Decide buf = dir/sub/name when it exists: 0 or the refusal. */
static int
candidate(struct ward_frame *f, char *buf, const char *dir, size_t dir_len, const char *sub,
          const char *name)
{
	size_t sub_len = strlen(sub), name_len = strlen(name);
	if (dir_len + 1 + sub_len + name_len + 1 > CANDIDATE_MAX)
		return 0; /* longer than any path the loader can open */
	memcpy(buf, dir, dir_len);
	size_t n = dir_len;
	if (n == 0 || buf[n - 1] != '/')
		buf[n++] = '/';
	memcpy(buf + n, sub, sub_len);
	memcpy(buf + n + sub_len, name, name_len + 1);
	return present(buf) ? ward_check_path(f, WARD_OP_READ, AT_FDCWD, buf, true) : 0;
}

/* Every directory of the caller's search list. */
static int
search_list(struct ward_frame *f, char *buf, const char *name, const void *caller)
{
	Dl_info info;
	struct link_map *map = NULL;
	void *main_program = NULL;
	if (!dladdr1(caller, &info, (void **)&map, RTLD_DL_LINKMAP) || map == NULL) /* code outside any object */
		map = main_program = WARD_REAL(dlopen)(NULL, RTLD_LAZY | RTLD_NOLOAD);
	Dl_serinfo size;
	long area = -1;
	if (map == NULL || dlinfo(map, RTLD_DI_SERINFOSIZE, &size) != 0 ||
	    (area = ward_syscall(SYS_mmap, NULL, size.dls_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	                         -1, 0)) < 0) {
		if (main_program != NULL)
			dlclose(main_program);
		return EACCES; /* cannot tell where the loader looks: refuse */
	}
	Dl_serinfo *si = (Dl_serinfo *)area;
	si->dls_size = size.dls_size;
	si->dls_cnt = size.dls_cnt;
	int r = dlinfo(map, RTLD_DI_SERINFO, si) == 0 ? 0 : EACCES;
	for (unsigned int i = 0; r == 0 && i < si->dls_cnt; i++) {
		const char *dir = si->dls_serpath[i].dls_name;
		if (dir == NULL || !present(dir))
			continue;
		for (size_t k = 0; r == 0 && k < sizeof(subdirs) / sizeof(subdirs[0]); k++)
			r = candidate(f, buf, dir, strlen(dir), subdirs[k], name);
	}
	ward_syscall(SYS_munmap, area, size.dls_size);
	if (main_program != NULL)
		dlclose(main_program);
	return r;
}

/* /etc/ld.so.cache (glibc-ld.so.cache1.1): every path it holds for name.
 * String offsets count from the start of the file. */
struct cache_header {
	char magic[17];
	char version[3];
	uint32_t nlibs;
	uint32_t len_strings;
	uint8_t flags;
	uint8_t unused_padding[3];
	uint32_t extension_offset;
	uint32_t unused[3];
};
struct cache_entry {
	int32_t flags;
	uint32_t key;
	uint32_t value;
	uint32_t osversion;
	uint64_t hwcap;
};

static int
search_cache(struct ward_frame *f, char *buf, const char *name)
{
	int saved = errno;
	long fd = ward_syscall(SYS_openat, AT_FDCWD, "/etc/ld.so.cache", O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || ward_syscall(SYS_fstat, fd, &st) != 0 || st.st_size < (off_t)sizeof(struct cache_header)) {
		if (fd >= 0)
			ward_syscall(SYS_close, fd);
		errno = saved;
		return 0; /* no cache: the loader has none either */
	}
	size_t len = (size_t)st.st_size;
	long map = ward_syscall(SYS_mmap, NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	ward_syscall(SYS_close, fd);
	errno = saved;
	if (map < 0)
		return EACCES;
	const char *base = (const char *)map;
	const struct cache_header *h = (const struct cache_header *)base;
	int r = 0;
	if (memcmp(h->magic, "glibc-ld.so.cache", 17) != 0 || memcmp(h->version, "1.1", 3) != 0) {
		r = EACCES; /* a format this code does not know: cannot tell */
	} else {
		const struct cache_entry *e = (const struct cache_entry *)(h + 1);
		size_t room = (len - sizeof(*h)) / sizeof(*e);
		for (size_t i = 0; r == 0 && i < h->nlibs && i < room; i++) {
			if (e[i].key >= len || e[i].value >= len ||
			    strncmp(base + e[i].key, name, len - e[i].key) != 0)
				continue;
			const char *path = base + e[i].value;
			size_t n = strnlen(path, len - e[i].value);
			if (n == len - e[i].value || n >= CANDIDATE_MAX)
				continue;
			memcpy(buf, path, n + 1);
			r = present(buf) ? ward_check_path(f, WARD_OP_READ, AT_FDCWD, buf, true) : 0;
		}
	}
	ward_syscall(SYS_munmap, map, len);
	return r;
}

static int
refused(int r)
{
	if (r != 0)
		refusal_pending = true;
	return r;
}

int
ward_check_dlopen(struct ward_frame *f, const char *file, int mode, const void *caller)
{
	(void)mode;
	if (file != NULL && strchr(file, '/') != NULL && f->active && ward_limits_wx_deny() &&
	    ward_program_wants_exec_stack(file))
		return refused(ward_check_exec_stack(f, file)); /* the loader would make every stack executable */
	if (__builtin_expect((ward_restricted & WARD_OP_READ) == 0, 1) || file == NULL || !f->active)
		return 0;
	if (strchr(file, '/') != NULL)
		return refused(ward_check_path(f, WARD_OP_READ, AT_FDCWD, file, true));
	void *loaded = WARD_REAL(dlopen)(file, RTLD_LAZY | RTLD_NOLOAD);
	if (loaded != NULL) {
		dlclose(loaded); /* NOLOAD took a reference */
		return 0;
	}
	(void)WARD_REAL(dlerror)(); /* NOLOAD's "not loaded" is not the program's error */
	struct ward_scratch *s = ward_scratch_enter(); /* candidates are built in its walk_path */
	if (s == NULL)
		return refused(EACCES);
	int r = search_list(f, s->walk_path, file, caller);
	if (r == 0)
		r = search_cache(f, s->walk_path, file);
	ward_scratch_leave();
	return refused(r);
}

WARD_EXPORT char *
dlerror(void)
{
	struct ward_frame frame_;
	ward_frame_enter(&frame_, WARD_ID_dlerror);
	char *own = ward_dlopen_refusal_message();
	errno = frame_.saved_errno;
	char *r = WARD_REAL(dlerror)();
	if (own != NULL)
		r = own;
	ward_frame_count(&frame_, false);
	ward_frame_done(&frame_);
	return r;
}
