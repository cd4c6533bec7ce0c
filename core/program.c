/*
 * program.c: what an exec would start (program.h).
 *
 * Each level is looked at as the kernel's execve does: the name is looked
 * up (following symlinks; relative to dirfd for the file, to the cwd for a
 * #! interpreter), it must be a regular file the caller may execute on a
 * mount without noexec, and its first 256 bytes say what it is: "#!" names
 * the next level, an ELF ends the chain (its PT_INTERP must exist, and it
 * says whether a preloaded library reaches the program), anything else is
 * ENOEXEC (execvp then runs /bin/sh on the file).
 */
#define _GNU_SOURCE
#include "program.h"

#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "syscall.h"

#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif

#if defined(__x86_64__)
#define NATIVE_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define NATIVE_MACHINE EM_AARCH64
#endif

const char *
ward_program_level(const struct ward_program *p, unsigned int i, int *dirfd)
{
	if (dirfd != NULL)
		*dirfd = i == 0 ? p->dirfd : AT_FDCWD;
	return i == 0 ? p->file : p->interp[i - 1];
}

/* May the caller execute this file (effective ids, as execve checks)? */
static long
may_execute(int dirfd, const char *path)
{
	long r = ward_syscall(SYS_faccessat2, dirfd, path, X_OK, AT_EACCESS);
	if (r != 0 && errno == ENOSYS)
		r = ward_syscall(SYS_faccessat, dirfd, path, X_OK);
	return r;
}

/* The system loader's identity, looked up once. */
static bool
is_system_loader(const struct stat *st)
{
	static dev_t dev;
	static ino_t ino;
	static int known; /* 0 not yet, 1 known, -1 missing */
	if (known == 0) {
		struct stat sys;
		if (ward_syscall(SYS_newfstatat, AT_FDCWD, WARD_PROGRAM_LOADER, &sys, 0) == 0) {
			dev = sys.st_dev;
			ino = sys.st_ino;
			known = 1;
		} else {
			known = -1;
		}
	}
	return known == 1 && st->st_dev == dev && st->st_ino == ino;
}

/* The #! line's interpreter into out; false: the kernel says ENOEXEC. */
static bool
script_interpreter(const unsigned char *head, size_t n, char *out, size_t cap)
{
	size_t end = 2;
	while (end < n && head[end] != '\n')
		end++;
	size_t i = 2;
	while (i < end && (head[i] == ' ' || head[i] == '\t'))
		i++;
	size_t start = i;
	while (i < end && head[i] != ' ' && head[i] != '\t' && head[i] != '\0')
		i++;
	if (i == start || i - start >= cap)
		return false;
	memcpy(out, head + start, i - start);
	out[i - start] = '\0';
	return true;
}

/* One program header of either class: type, file offset, size and flags. */
static bool
read_phdr(long fd, bool is64, uint64_t phoff, unsigned int i, unsigned int entsize, uint32_t *type,
          uint64_t *offset, uint64_t *size, uint32_t *flags)
{
	union {
		Elf64_Phdr p64;
		Elf32_Phdr p32;
	} ph;
	size_t want = is64 ? sizeof(ph.p64) : sizeof(ph.p32);
	if (entsize < want || ward_syscall(SYS_pread64, fd, &ph, want, (off_t)(phoff + (uint64_t)i * entsize)) != (long)want)
		return false;
	*type = is64 ? ph.p64.p_type : ph.p32.p_type;
	*offset = is64 ? ph.p64.p_offset : ph.p32.p_offset;
	*size = is64 ? ph.p64.p_filesz : ph.p32.p_filesz;
	*flags = is64 ? ph.p64.p_flags : ph.p32.p_flags;
	return true;
}

/* The final level, an ELF: would the kernel start it, and would the
 * dynamic loader preload into it?  Sets p->error or p->unconfined. */
static void
inspect_elf(struct ward_program *p, long fd, const unsigned char *head, size_t n, const struct stat *st,
            bool nosuid)
{
	bool is64 = head[EI_CLASS] == ELFCLASS64;
	uint64_t phoff;
	unsigned int phnum, entsize, type, machine;
	if (is64 && n >= sizeof(Elf64_Ehdr)) {
		Elf64_Ehdr eh;
		memcpy(&eh, head, sizeof(eh));
		phoff = eh.e_phoff, phnum = eh.e_phnum, entsize = eh.e_phentsize, type = eh.e_type, machine = eh.e_machine;
	} else if (head[EI_CLASS] == ELFCLASS32 && n >= sizeof(Elf32_Ehdr)) {
		Elf32_Ehdr eh;
		memcpy(&eh, head, sizeof(eh));
		phoff = eh.e_phoff, phnum = eh.e_phnum, entsize = eh.e_phentsize, type = eh.e_type, machine = eh.e_machine;
	} else {
		p->error = ENOEXEC;
		return;
	}
	if (type != ET_EXEC && type != ET_DYN) {
		p->error = ENOEXEC;
		return;
	}
	const char *why = NULL;
	char loader[WARD_PROGRAM_NAME];
	loader[0] = '\0';
	for (unsigned int i = 0; i < phnum && why == NULL; i++) {
		uint32_t ptype, pflags;
		uint64_t off, size;
		if (i >= 256 || !read_phdr(fd, is64, phoff, i, entsize, &ptype, &off, &size, &pflags)) {
			why = "its program headers cannot be read";
			break;
		}
		if (ptype == PT_GNU_STACK)
			p->exec_stack = (pflags & PF_X) != 0; /* the kernel maps its stack executable */
		if (ptype != PT_INTERP || loader[0] != '\0')
			continue;
		if (size < 2 || size > sizeof(loader) ||
		    ward_syscall(SYS_pread64, fd, loader, size, (off_t)off) != (long)size || loader[size - 1] != '\0')
			why = "its PT_INTERP is not the system's dynamic loader";
	}
	if (why == NULL && loader[0] != '\0') {
		struct stat lst; /* the kernel opens the loader like a program (relative: from the cwd) */
		if (ward_syscall(SYS_newfstatat, AT_FDCWD, loader, &lst, 0) != 0 || may_execute(AT_FDCWD, loader) != 0) {
			p->error = errno;
			return;
		}
		if (!is_system_loader(&lst))
			why = "its PT_INTERP is not the system's dynamic loader";
	}
	if (why == NULL && head[EI_CLASS] != ELFCLASS64)
		why = "a 32-bit ELF (the loader cannot preload a 64-bit library into it)";
	else if (why == NULL && machine != NATIVE_MACHINE)
		why = "an ELF for another machine";
	else if (why == NULL && loader[0] == '\0')
		why = "statically linked";
	if (why == NULL && !nosuid) {
		char value[64];
		if (((st->st_mode & S_ISUID) && st->st_uid != (uid_t)ward_syscall(SYS_geteuid)) ||
		    ((st->st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) &&
		     st->st_gid != (gid_t)ward_syscall(SYS_getegid)))
			why = "set-user-ID or set-group-ID";
		else if (ward_syscall(SYS_fgetxattr, fd, "security.capability", value, sizeof(value)) > 0)
			why = "file capabilities";
	}
	if (why != NULL) {
		p->unconfined = why;
		p->unconfined_level = p->levels - 1;
	}
}

/* One level: 1 when it names the next (a #! interpreter now in
 * p->interp[p->levels - 1]), 0 when the chain ends here (p->error and
 * p->unconfined say how), -1 when the kernel would not even open it (no
 * such file, not executable: p->error). */
static int
inspect_level(struct ward_program *p, int dirfd, const char *path)
{
	struct stat st;
	struct statfs fs;
	unsigned char head[WARD_PROGRAM_NAME];
	if (ward_syscall(SYS_newfstatat, dirfd, path, &st, 0) != 0) {
		p->error = errno;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || may_execute(dirfd, path) != 0) {
		p->error = EACCES;
		return -1;
	}
	long fd = ward_syscall(SYS_openat, dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) { /* execute-only: the kernel may start it, nobody can tell what it is */
		p->unconfined = "it cannot be read (what it starts cannot be told)";
		p->unconfined_level = p->levels - 1;
		return 0;
	}
	bool nosuid = false;
	if (ward_syscall(SYS_fstatfs, fd, &fs) == 0) {
		if (fs.f_flags & ST_NOEXEC) {
			ward_syscall(SYS_close, fd);
			p->error = EACCES;
			return -1;
		}
		nosuid = (fs.f_flags & ST_NOSUID) != 0;
	}
	long n = ward_syscall(SYS_pread64, fd, head, sizeof(head), 0);
	int next = 0;
	if (n >= 2 && head[0] == '#' && head[1] == '!') {
		if (p->levels == WARD_PROGRAM_LEVELS)
			p->error = ELOOP;
		else if (script_interpreter(head, (size_t)n, p->interp[p->levels - 1], WARD_PROGRAM_NAME))
			next = 1;
		else
			p->error = ENOEXEC;
	} else if (n >= 4 && memcmp(head, ELFMAG, SELFMAG) == 0) {
		inspect_elf(p, fd, head, (size_t)n, &st, nosuid);
	} else {
		p->error = ENOEXEC;
	}
	ward_syscall(SYS_close, fd);
	return next;
}

void
ward_program_inspect(int dirfd, const char *file, bool shell_fallback, struct ward_program *p)
{
	p->dirfd = dirfd;
	p->file = file;
	p->error = 0;
	p->unconfined = NULL;
	p->unconfined_level = 0;
	p->skipped = 0;
	p->exec_stack = false;
	p->levels = 1;
	bool fell_back = false;
	for (;;) {
		int at;
		const char *path = ward_program_level(p, p->levels - 1, &at);
		int r = inspect_level(p, at, path);
		if (r > 0) {
			p->levels++;
			continue;
		}
		if (r < 0)
			p->levels--; /* never opened: nothing to decide there */
		/* execvp: what the kernel cannot start runs as a shell script */
		if (p->error != ENOEXEC || !shell_fallback || fell_back)
			return;
		fell_back = true;
		p->error = 0;
		p->levels = 2;
		memcpy(p->interp[0], "/bin/sh", sizeof("/bin/sh"));
	}
}

const char *
ward_program_search(const char *file, const char *path_env, bool shell_fallback, char *out, size_t cap,
                    struct ward_program *p)
{
	if (file[0] == '\0') {
		p->error = ENOENT;
		p->levels = 0;
		return NULL;
	}
	if (strchr(file, '/') != NULL) {
		ward_program_inspect(AT_FDCWD, file, shell_fallback, p);
		p->skipped = 0;
		return p->error == 0 ? file : NULL;
	}
	const char *dirs = path_env != NULL ? path_env : "/bin:/usr/bin";
	size_t len = strlen(file);
	bool eacces = false;
	int last = ENOENT, skipped = 0;
	for (const char *dir = dirs;;) {
		const char *end = strchrnul(dir, ':');
		size_t n = (size_t)(end - dir);
		if (n + len + 2 <= cap) {
			memcpy(out, dir, n);
			size_t at = n;
			if (n > 0)
				out[at++] = '/';
			memcpy(out + at, file, len + 1);
			ward_program_inspect(AT_FDCWD, out, shell_fallback, p);
			switch (p->error) {
			case 0:
				p->skipped = skipped;
				return out;
			case EACCES:
				eacces = true;
				/* fall through */
			case ENOENT:
			case ESTALE:
			case ENOTDIR:
			case ENODEV:
			case ETIMEDOUT:
				last = skipped = p->error;
				break;
			default:
				return NULL;
			}
		}
		if (*end == '\0')
			break;
		dir = end + 1;
	}
	p->error = eacces ? EACCES : last;
	return NULL;
}

bool
ward_program_wants_exec_stack(const char *path)
{
	long fd = ward_syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	Elf64_Ehdr eh;
	bool yes = false;
	if (ward_syscall(SYS_pread64, fd, &eh, sizeof(eh), 0) == (long)sizeof(eh) && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64)
		for (unsigned int i = 0; i < eh.e_phnum && i < 256; i++) {
			uint32_t type, flags;
			uint64_t off, size;
			if (!read_phdr(fd, true, eh.e_phoff, i, eh.e_phentsize, &type, &off, &size, &flags))
				break;
			if (type == PT_GNU_STACK) {
				yes = (flags & PF_X) != 0;
				break;
			}
		}
	ward_syscall(SYS_close, fd);
	return yes;
}
