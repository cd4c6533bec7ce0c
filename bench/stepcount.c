/*
 * stepcount: the user-mode instructions a command executes, counted
 * exactly by single-stepping it under ptrace.  For machines without
 * hardware counters (`perf stat -e instructions:u` unsupported, as in
 * most VMs), and for what callgrind cannot run natively: valgrind 3.19
 * has no openat2, so under it every checked open of the shim takes the
 * walk by components that natively never runs.
 *
 *   bench_stepcount [-b FUNCTION] [-f] [-R] [-t PS] [-o FILE] [-p FILE] [-e NAME=VALUE]...
 *                   [--] COMMAND [ARG...]
 *   bench_stepcount --probe KIND N      (run one probe loop, untraced)
 *   bench_stepcount --self-test         (check the counter on the probes)
 *
 * Counting starts at the first instruction of the new program (the
 * dynamic loader's entry, as with callgrind) and ends at its exit (the
 * last instruction, exit_group, never returns: not counted).  One
 * PTRACE_SINGLESTEP trap is one instruction executed, with these facts
 * of x86-64 Linux (checked by --self-test; docs/PERFORMANCE.md):
 *   - a `syscall` instruction is one step (the kernel reports the trap on
 *     its way back, si_code TRAP_BRKPT, which counts the system calls: now
 *     and then, once in some hundreds, one is reported as a plain step,
 *     the instructions the same); the kernel's work is not counted;
 *   - a `rep`-prefixed string instruction traps after every iteration: k
 *     iterations count k (one when k is 0).  Callgrind counts k + 1 (its
 *     translation runs the instruction once more to find rcx at 0): the
 *     same per iteration, one more for each such instruction that iterates;
 *   - vDSO functions (clock_gettime, gettimeofday, time) run in user mode
 *     and are counted instruction by instruction, retries taken out (see
 *     struct vdso_path);
 *   - entering a signal handler reports a trap of its own (si_code
 *     SIGTRAP) before the handler's first instruction: not counted.
 * Signals sent to the command are passed on to it; a SIGTRAP that is not
 * a step (int3, kill) is passed on too.  A stop signal's group-stop is
 * resumed at once (the command never stays stopped under the counter).
 *
 * The clock the command sees is virtual by default: CLOCK_REALTIME,
 * CLOCK_MONOTONIC and their variants, gettimeofday and time advance by
 * PS picoseconds per instruction counted (-t, default 300: a core running
 * about 3.3 instructions a nanosecond) from the real time at the start.
 * A step costs microseconds, thousands of times an instruction's time,
 * so caches that trust an entry for a while (the shim's directory cache
 * and working directory: 200 ms) would otherwise expire every few dozen
 * calls and count refills that natively happen once in 100,000 calls.
 * The readings are rewritten as each vDSO function returns (its
 * instructions still counted as they ran) and after each such system
 * call.  -t 0 leaves the real clock alone.
 *
 * Options:
 *   -b FN     count from the first call of function FN of the executable
 *             (its symbol table; e.g. main): what runs before, the dynamic
 *             loader and every library's constructor, runs at full speed
 *             under a breakpoint, uncounted.  For the difference of two
 *             runs, where start-up cancels anyway, this saves its steps.
 *   -f        follow forks, vforks and threads too (default: the command's
 *             first thread alone; its children run untraced, uncounted)
 *   -R        keep address-space randomisation (default: off for the
 *             command, as gdb does: alignment-dependent paths in string
 *             functions then take the same way in every run)
 *   -t PS     the virtual clock's picoseconds per instruction; 0: real clock
 *   -o FILE   write the result line to FILE (default: standard error)
 *   -p FILE   write a flat profile to FILE: "STEPS<TAB>FILE<TAB>OFFSET" for
 *             every instruction executed, placed by the first tracee's
 *             map as it exits (vDSO retries not taken out);
 *             bench/instructions.sh names the functions with addr2line
 *   -e N=V    set N=V in the command's environment only (the counter
 *             itself stays bare: pass LD_PRELOAD this way)
 *
 * Result, one line (signals: delivered to the command; tracees: threads
 * and processes counted; vdso_retries: instructions taken out):
 *   stepcount: instructions=I syscalls=S signals=G tracees=P vdso_calls=V vdso_retries=X seconds=T
 * The exit status is the command's (128 + the signal that killed it);
 * 125 when counting itself failed.  Nothing is printed to standard output.
 * A step costs some microseconds, tens on a loaded VM: a million
 * instructions take from seconds to a couple of minutes.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "stepcount counts x86-64 instructions only"
#endif

#define MAX_TRACEES 256
#define CLOCKS 12 /* clock ids 0..11 (CLOCK_TAI is 11) */

struct options {
	const char *start_at; /* -b: a function of the executable; NULL: its first instruction */
	bool follow;
	bool randomise;
	uint64_t ps_per_instruction;
	const char *out;
	const char *profile; /* -p: where to write the flat profile; NULL: none */
};

/* A vDSO time function the command has entered and not yet returned from. */
enum vdso_fn { VDSO_NONE, VDSO_CLOCK_GETTIME, VDSO_GETTIMEOFDAY, VDSO_TIME, VDSO_FNS };

struct pending {
	enum vdso_fn fn;
	uint64_t at;        /* the instructions counted at its entry */
	uint64_t ret;       /* the return address */
	uint64_t rsp_after; /* the stack pointer once it has returned */
	uint64_t arg0, arg1;
};

struct tracee {
	pid_t pid;
	bool running;     /* seen its first stop */
	uint64_t last_rip; /* the instruction its next step executes (-p) */
	uint64_t vdso_entry[VDSO_FNS];
	struct pending call;
};

struct result {
	uint64_t instructions, syscalls, signals;
	uint64_t vdso_calls, vdso_retries; /* retries: instructions taken out (see vdso_path) */
	unsigned int processes;
	int status; /* of the first tracee, as waitpid gives it */
	double seconds;
};

static const char *const vdso_names[VDSO_FNS] = {NULL, "__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time"};
static uint64_t vdso_offset[VDSO_FNS]; /* in this kernel's vDSO; 0: not there */

static struct tracee tracees[MAX_TRACEES];

/* Each vDSO time function (and clock): its calls, their instructions and
 * the fewest one call took.  A vDSO clock read loops while the kernel
 * updates the time it reads; natively the loop almost never repeats, but a
 * step costs microseconds, so a timer tick lands inside a read of some
 * dozen instructions often enough to make counts differ between runs.  Each
 * call is counted at the fewest instructions a call of the same function
 * and clock took (its path without a retry), the rest reported apart. */
struct vdso_path {
	uint64_t calls, instructions, fewest;
};
static struct vdso_path vdso_paths[VDSO_FNS][CLOCKS + 1];
static int64_t clock_base[CLOCKS]; /* ns, real time at the start; -1: not a clock we rewrite */

static void
complain(const char *what)
{
	fprintf(stderr, "stepcount: %s: %s\n", what, strerror(errno));
}

/* -p: the steps at each instruction address (open addressing, never
 * full: a run that executes more distinct addresses loses the rest and
 * says so) and the first tracee's memory map, read as it exits. */
#define PROFILE_SLOTS (1u << 20)
struct profile_slot {
	uint64_t address, steps;
};
static struct profile_slot *profile_slots;
static uint64_t profile_lost;
static char *profile_maps;

static void
profile_add(uint64_t address)
{
	uint64_t h = address * 0x9e3779b97f4a7c15ull;
	for (unsigned int i = 0, at = (unsigned int)(h >> 44); i < 64; i++, at = (at + 1) & (PROFILE_SLOTS - 1)) {
		struct profile_slot *slot = &profile_slots[at];
		if (slot->address == address || slot->address == 0) {
			slot->address = address;
			slot->steps++;
			return;
		}
	}
	profile_lost++;
}

/* PID's /proc/PID/maps, whole, in profile_maps. */
static void
profile_read_maps(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return;
	size_t size = 0;
	FILE *out = open_memstream(&profile_maps, &size);
	if (out != NULL) {
		char buf[4096];
		size_t got;
		while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, got, out);
		fclose(out);
	}
	fclose(f);
}

/* ADDRESS in the map: its file (or the map's name: [vdso], [anon]) and its
 * offset there. */
static void
profile_place(uint64_t address, const char **file, int *file_len, uint64_t *offset)
{
	*file = "[unmapped]";
	*file_len = (int)strlen(*file);
	*offset = address;
	for (const char *line = profile_maps; line != NULL && *line != '\0';) {
		const char *end = strchr(line, '\n');
		unsigned long lo, hi, pgoff;
		int name = 0;
		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %n", &lo, &hi, &pgoff, &name) == 3 && address >= lo &&
		    address < hi) {
			int len = (int)((end != NULL ? end : line + strlen(line)) - (line + name));
			*file = name > 0 && len > 0 ? line + name : "[anon]";
			*file_len = name > 0 && len > 0 ? len : 6;
			*offset = address - lo + pgoff;
			return;
		}
		line = end != NULL ? end + 1 : NULL;
	}
}

/* The profile file: "STEPS<TAB>FILE<TAB>OFFSET" for every instruction
 * executed (FILE as the first tracee's map named it as it exited). */
static int
profile_write(const char *file)
{
	FILE *f = fopen(file, "we");
	if (f == NULL) {
		complain(file);
		return -1;
	}
	for (unsigned int i = 0; i < PROFILE_SLOTS; i++) {
		if (profile_slots[i].address == 0)
			continue;
		const char *name;
		int len;
		uint64_t offset;
		profile_place(profile_slots[i].address, &name, &len, &offset);
		fprintf(f, "%" PRIu64 "\t%.*s\t0x%" PRIx64 "\n", profile_slots[i].steps, len, name, offset);
	}
	if (profile_lost != 0)
		fprintf(stderr, "stepcount: -p: %" PRIu64 " steps at addresses past the table's room are left out\n", profile_lost);
	return fclose(f) == 0 ? 0 : -1;
}

/* After a step of T to NEXT: the instruction it executed counted (-p). */
static void
profile_step(struct tracee *t, uint64_t next)
{
	if (t->last_rip != 0)
		profile_add(t->last_rip);
	t->last_rip = next;
}

static uint64_t
rip_of(pid_t pid)
{
	struct user_regs_struct r;
	return ptrace(PTRACE_GETREGS, pid, NULL, &r) == 0 ? r.rip : 0;
}

/* This process's vDSO (the same image every 64-bit process of this kernel
 * maps): the offsets of the time functions, from its dynamic symbols. */
static void
find_vdso_offsets(void)
{
	const unsigned char *base = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
	if (base == NULL)
		return;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(base + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		const Elf64_Sym *sym = (const Elf64_Sym *)(base + sh[i].sh_offset);
		const char *names = (const char *)(base + sh[sh[i].sh_link].sh_offset);
		size_t count = sh[i].sh_size / sizeof(*sym);
		for (size_t s = 0; s < count; s++)
			for (int f = 1; f < VDSO_FNS; f++)
				if (sym[s].st_value != 0 && strcmp(names + sym[s].st_name, vdso_names[f]) == 0)
					vdso_offset[f] = sym[s].st_value;
	}
}

/* The value of auxiliary vector entry TYPE of PID; 0 if none. */
static uint64_t
auxv_of(pid_t pid, uint64_t type)
{
	char path[64];
	uint64_t pair[2], value = 0;
	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	while (read(fd, pair, sizeof(pair)) == sizeof(pair) && pair[0] != AT_NULL)
		if (pair[0] == type)
			value = pair[1];
	close(fd);
	return value;
}

/* Where PID's vDSO is, from its auxiliary vector. */
static void
find_vdso_entries(struct tracee *t)
{
	uint64_t base = auxv_of(t->pid, AT_SYSINFO_EHDR);
	for (int f = 1; f < VDSO_FNS; f++)
		t->vdso_entry[f] = base != 0 && vdso_offset[f] != 0 ? base + vdso_offset[f] : 0;
	t->call.fn = VDSO_NONE;
}

static void
read_clock_bases(void)
{
	for (clockid_t c = 0; c < CLOCKS; c++) {
		struct timespec ts;
		bool wall_or_monotonic = c == CLOCK_REALTIME || c == CLOCK_MONOTONIC || c == CLOCK_MONOTONIC_RAW ||
		                         c == CLOCK_REALTIME_COARSE || c == CLOCK_MONOTONIC_COARSE || c == CLOCK_BOOTTIME ||
		                         c == CLOCK_TAI;
		clock_base[c] = -1;
		if (wall_or_monotonic && clock_gettime(c, &ts) == 0)
			clock_base[c] = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	}
}

/* The virtual time of clock C after INSTRUCTIONS, in ns; -1 if C is left alone. */
static int64_t
virtual_ns(const struct options *o, uint64_t c, uint64_t instructions)
{
	if (c >= CLOCKS || clock_base[c] < 0)
		return -1;
	return clock_base[c] + (int64_t)(instructions * o->ps_per_instruction / 1000);
}

static void
poke_pair(pid_t pid, uint64_t addr, int64_t a, int64_t b)
{
	if (addr == 0)
		return;
	ptrace(PTRACE_POKEDATA, pid, (void *)addr, (void *)a); /* a fault leaves it as the call made it */
	ptrace(PTRACE_POKEDATA, pid, (void *)(addr + 8), (void *)b);
}

/* A time call FN(ARG0, ARG1) returned RESULT in PID (registers R): give it
 * the virtual time instead. */
static void
rewrite_time(const struct options *o, pid_t pid, enum vdso_fn fn, uint64_t arg0, uint64_t arg1,
             struct user_regs_struct *r, uint64_t instructions)
{
	int64_t ns;
	switch (fn) {
	case VDSO_CLOCK_GETTIME:
		if (r->rax == 0 && (ns = virtual_ns(o, arg0, instructions)) >= 0)
			poke_pair(pid, arg1, ns / 1000000000, ns % 1000000000);
		break;
	case VDSO_GETTIMEOFDAY:
		if (r->rax == 0 && (ns = virtual_ns(o, CLOCK_REALTIME, instructions)) >= 0)
			poke_pair(pid, arg0, ns / 1000000000, ns % 1000000000 / 1000);
		break;
	case VDSO_TIME:
		if ((int64_t)r->rax >= 0 && (ns = virtual_ns(o, CLOCK_REALTIME, instructions)) >= 0) {
			r->rax = (uint64_t)(ns / 1000000000);
			ptrace(PTRACE_SETREGS, pid, NULL, r);
			if (arg0 != 0)
				ptrace(PTRACE_POKEDATA, pid, (void *)arg0, (void *)r->rax);
		}
		break;
	default:
		break;
	}
}

/* After a step to RIP in T: a vDSO time function entered or returned from. */
static void
watch_vdso(const struct options *o, struct tracee *t, uint64_t rip, uint64_t instructions)
{
	struct user_regs_struct r;
	if (t->call.fn != VDSO_NONE && rip == t->call.ret) {
		if (ptrace(PTRACE_GETREGS, t->pid, NULL, &r) == 0 && r.rsp == t->call.rsp_after) {
			uint64_t clock = t->call.fn == VDSO_CLOCK_GETTIME && t->call.arg0 < CLOCKS ? t->call.arg0 : CLOCKS;
			struct vdso_path *p = &vdso_paths[t->call.fn][clock];
			uint64_t took = instructions - t->call.at;
			p->calls++;
			p->instructions += took;
			if (p->calls == 1 || took < p->fewest)
				p->fewest = took;
			if (o->ps_per_instruction != 0)
				rewrite_time(o, t->pid, t->call.fn, t->call.arg0, t->call.arg1, &r, instructions);
			t->call.fn = VDSO_NONE;
		}
		return;
	}
	for (int f = 1; f < VDSO_FNS; f++) {
		if (rip != t->vdso_entry[f] || t->vdso_entry[f] == 0)
			continue;
		if (ptrace(PTRACE_GETREGS, t->pid, NULL, &r) != 0)
			return;
		errno = 0;
		long ret = ptrace(PTRACE_PEEKDATA, t->pid, (void *)r.rsp, NULL);
		if (errno != 0)
			return;
		t->call = (struct pending){(enum vdso_fn)f, instructions, (uint64_t)ret, r.rsp + 8, r.rdi, r.rsi};
		return;
	}
}

/* After a system call in T: a time call's result rewritten. */
static void
watch_syscall(const struct options *o, struct tracee *t, uint64_t instructions)
{
	struct user_regs_struct r;
	if (ptrace(PTRACE_GETREGS, t->pid, NULL, &r) != 0)
		return;
	if (r.orig_rax == SYS_clock_gettime)
		rewrite_time(o, t->pid, VDSO_CLOCK_GETTIME, r.rdi, r.rsi, &r, instructions);
	else if (r.orig_rax == SYS_gettimeofday)
		rewrite_time(o, t->pid, VDSO_GETTIMEOFDAY, r.rdi, r.rsi, &r, instructions);
	else if (r.orig_rax == SYS_time)
		rewrite_time(o, t->pid, VDSO_TIME, r.rdi, r.rsi, &r, instructions);
}

static struct tracee *
tracee_of(pid_t pid, bool add)
{
	struct tracee *free_slot = NULL;
	for (int i = 0; i < MAX_TRACEES; i++) {
		if (tracees[i].pid == pid)
			return &tracees[i];
		if (tracees[i].pid == 0 && free_slot == NULL)
			free_slot = &tracees[i];
	}
	if (!add || free_slot == NULL)
		return NULL;
	*free_slot = (struct tracee){.pid = pid};
	return free_slot;
}

static double
now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Counts FIRST (stopped, traced by us, at the point counting starts: after
 * its exec or a SIGSTOP it raised) and, with -f, what it starts, until
 * they have all ended.  0, or -1 when tracing failed. */
static int
trace(pid_t first, const struct options *o, struct result *res)
{
	double start = now_seconds();
	long opts = PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC;
	if (o->profile != NULL) {
		opts |= PTRACE_O_TRACEEXIT;
		if (profile_slots == NULL && (profile_slots = calloc(PROFILE_SLOTS, sizeof(*profile_slots))) == NULL) {
			complain("-p");
			return -1;
		}
	}
	if (o->follow)
		opts |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE;
	if (ptrace(PTRACE_SETOPTIONS, first, NULL, (void *)opts) != 0) {
		complain("PTRACE_SETOPTIONS");
		return -1;
	}
	*res = (struct result){.processes = 1};
	memset(vdso_paths, 0, sizeof(vdso_paths));
	struct tracee *t = tracee_of(first, true);
	t->running = true;
	if (o->profile != NULL)
		t->last_rip = rip_of(first);
	find_vdso_entries(t);
	read_clock_bases();
	int live = 1;
	pid_t pid = first; /* the tracee to restart; 0: none (one has ended) */
	int sig = 0;
	for (;;) {
		if (pid > 0 && ptrace(PTRACE_SINGLESTEP, pid, NULL, (void *)(long)sig) != 0 && errno != ESRCH) {
			complain("PTRACE_SINGLESTEP");
			return -1;
		}
		int status;
		pid = waitpid(-1, &status, __WALL);
		sig = 0;
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			complain("waitpid");
			return -1;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			if (pid == first)
				res->status = status;
			if ((t = tracee_of(pid, false)) != NULL) {
				t->pid = 0;
				if (--live == 0)
					break;
			}
			pid = 0;
			continue;
		}
		if (!WIFSTOPPED(status))
			continue;
		t = tracee_of(pid, true);
		if (t == NULL) {
			fprintf(stderr, "stepcount: more than %d tracees\n", MAX_TRACEES);
			return -1;
		}
		int stop = WSTOPSIG(status), event = status >> 16;
		if (!t->running) {
			/* a new thread or child's first stop (SIGSTOP), or its event first */
			t->running = true;
			if (o->profile != NULL)
				t->last_rip = rip_of(pid);
			live++;
			res->processes++;
			find_vdso_entries(t);
			if (stop == SIGSTOP && event == 0)
				continue;
		}
		if (stop == SIGTRAP && event != 0) {
			if (event == PTRACE_EVENT_EXEC)
				find_vdso_entries(t);
			if (event == PTRACE_EVENT_EXEC && o->profile != NULL)
				t->last_rip = rip_of(pid); /* (the execve itself: counted, not profiled) */
			if (event == PTRACE_EVENT_EXIT && pid == first)
				profile_read_maps(pid);
			/* fork, vfork, clone: the child is added at its own first stop */
			continue;
		}
		siginfo_t si;
		if (ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) != 0) {
			if (errno == EINVAL)
				continue; /* a group-stop: resumed (a stopped command would hang the count) */
			if (errno == ESRCH)
				continue;
			complain("PTRACE_GETSIGINFO");
			return -1;
		}
		if (stop == SIGTRAP && si.si_code == TRAP_TRACE) {
			res->instructions++;
			if (o->profile != NULL)
				profile_step(t, (uint64_t)si.si_addr);
			watch_vdso(o, t, (uint64_t)si.si_addr, res->instructions);
		} else if (stop == SIGTRAP && si.si_code == TRAP_BRKPT) {
			res->instructions++; /* the syscall instruction */
			res->syscalls++;
			if (o->profile != NULL)
				profile_step(t, (uint64_t)si.si_addr);
			if (o->ps_per_instruction != 0)
				watch_syscall(o, t, res->instructions);
			watch_vdso(o, t, (uint64_t)si.si_addr, res->instructions);
		} else if (stop == SIGTRAP && si.si_code == SIGTRAP && si.si_pid == pid) {
			/* the report of a signal handler's entry: nothing executed */
		} else {
			sig = stop; /* a signal for the command: delivered */
			res->signals++;
		}
	}
	for (int f = 1; f < VDSO_FNS; f++)
		for (int c = 0; c <= CLOCKS; c++) {
			struct vdso_path *p = &vdso_paths[f][c];
			res->vdso_calls += p->calls;
			res->vdso_retries += p->instructions - p->calls * p->fewest;
		}
	res->instructions -= res->vdso_retries;
	res->seconds = now_seconds() - start;
	return 0;
}

/* Where function NAME of PID's executable is (its symbol table, or its
 * dynamic one; a PIE is placed from AT_ENTRY); 0 if it has none. */
static uint64_t
function_address(pid_t pid, const char *name)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(Elf64_Ehdr)) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	const unsigned char *file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (file == MAP_FAILED)
		return 0;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(file + eh->e_shoff);
	uint64_t value = 0;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(*sh) > (uint64_t)st.st_size)
		goto out;
	for (int pass = 0; pass < 2 && value == 0; pass++)
		for (int i = 0; i < eh->e_shnum && value == 0; i++) {
			if (sh[i].sh_type != (pass == 0 ? SHT_SYMTAB : SHT_DYNSYM) || sh[i].sh_link >= eh->e_shnum ||
			    sh[i].sh_offset + sh[i].sh_size > (uint64_t)st.st_size)
				continue;
			const Elf64_Sym *sym = (const Elf64_Sym *)(file + sh[i].sh_offset);
			const Elf64_Shdr *strings = &sh[sh[i].sh_link];
			for (size_t k = 0; k < sh[i].sh_size / sizeof(*sym); k++)
				if (ELF64_ST_TYPE(sym[k].st_info) == STT_FUNC && sym[k].st_value != 0 &&
				    sym[k].st_name < strings->sh_size &&
				    strncmp((const char *)file + strings->sh_offset + sym[k].st_name, name,
				            strings->sh_size - sym[k].st_name) == 0) {
					value = sym[k].st_value;
					break;
				}
		}
	if (value != 0 && eh->e_type == ET_DYN)
		value += auxv_of(pid, AT_ENTRY) - eh->e_entry;
out:
	munmap((void *)file, (size_t)st.st_size);
	return value;
}

/* -b: runs PID (stopped after its exec) at full speed to the first
 * instruction of function NAME, by a breakpoint there.  0, or -1 (said why;
 * STATUS is then its end if it ended). */
static int
run_to(pid_t pid, const char *name, int *status)
{
	uint64_t at = function_address(pid, name);
	if (at == 0) {
		fprintf(stderr, "stepcount: -b %s: no such function in the executable's symbols\n", name);
		return -1;
	}
	errno = 0;
	long word = ptrace(PTRACE_PEEKTEXT, pid, (void *)at, NULL);
	if (errno != 0 || ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC)) != 0 ||
	    ptrace(PTRACE_POKETEXT, pid, (void *)at, (void *)((word & ~0xffL) | 0xcc)) != 0) {
		complain("-b: setting the breakpoint");
		return -1;
	}
	int sig = 0;
	for (;;) {
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig) != 0) {
			complain("PTRACE_CONT");
			return -1;
		}
		if (waitpid(pid, status, __WALL) != pid) {
			complain("waitpid");
			return -1;
		}
		if (!WIFSTOPPED(*status)) {
			fprintf(stderr, "stepcount: -b %s: the command ended before it got there\n", name);
			return -1;
		}
		sig = WSTOPSIG(*status);
		if (sig == SIGTRAP && (*status >> 16) == PTRACE_EVENT_EXEC) {
			fprintf(stderr, "stepcount: -b %s: the command ran another program before it got there\n", name);
			return -1;
		}
		struct user_regs_struct r;
		if (sig == SIGTRAP && ptrace(PTRACE_GETREGS, pid, NULL, &r) == 0 && r.rip == at + 1) {
			r.rip = at;
			if (ptrace(PTRACE_POKETEXT, pid, (void *)at, (void *)word) != 0 ||
			    ptrace(PTRACE_SETREGS, pid, NULL, &r) != 0) {
				complain("-b: taking the breakpoint out");
				return -1;
			}
			return 0;
		}
		siginfo_t si;
		if (ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) != 0)
			sig = 0; /* a group-stop: resumed */
	}
}

static void
print_result(const struct options *o, const struct result *r)
{
	FILE *f = stderr;
	if (o->out != NULL && (f = fopen(o->out, "we")) == NULL) {
		complain(o->out);
		f = stderr;
	}
	fprintf(f,
	        "stepcount: instructions=%" PRIu64 " syscalls=%" PRIu64 " signals=%" PRIu64 " tracees=%u vdso_calls=%" PRIu64
	        " vdso_retries=%" PRIu64 " seconds=%.2f\n",
	        r->instructions, r->syscalls, r->signals, r->processes, r->vdso_calls, r->vdso_retries, r->seconds);
	if (f != stderr)
		fclose(f);
}

static int
exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- probes: loops whose instructions are known, for --self-test ---- */

static unsigned char probe_from[1 << 20], probe_to[1 << 20];
static volatile sig_atomic_t probe_handled;

static void
probe_handler(int sig)
{
	(void)sig;
	probe_handled++;
}

/* Runs probe KIND with N iterations; its result (a count it checks) or -1. */
static long
probe(const char *kind, long n)
{
	if (strcmp(kind, "loop") == 0) { /* 3 instructions an iteration */
		long x = 0;
		if (n > 0)
			__asm__ volatile("1: add $1, %0\n\tdec %1\n\tjnz 1b" : "+r"(x), "+r"(n) : : "cc");
		return x;
	}
	if (strcmp(kind, "rep_movsb") == 0 || strcmp(kind, "rep_stosb") == 0) { /* one instruction, N iterations */
		if (n > (long)sizeof(probe_to))
			return -1;
		void *to = probe_to, *from = probe_from;
		long count = n;
		if (kind[4] == 'm')
			__asm__ volatile("rep movsb" : "+D"(to), "+S"(from), "+c"(count) : : "memory");
		else
			__asm__ volatile("rep stosb" : "+D"(to), "+c"(count) : "a"(0x5a) : "memory");
		return n - count;
	}
	if (strcmp(kind, "syscall") == 0) { /* 4 instructions an iteration, one a system call */
		long left = n;
		if (n > 0)
			__asm__ volatile("1: mov %1, %%eax\n\tsyscall\n\tdec %0\n\tjnz 1b"
			                 : "+r"(left)
			                 : "i"(SYS_getppid)
			                 : "rax", "rcx", "r11", "memory", "cc");
		return n - left;
	}
	if (strcmp(kind, "vdso") == 0) { /* libc's clock_gettime, through the vDSO */
		struct timespec ts;
		for (long i = 0; i < n; i++)
			clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		return n;
	}
	if (strcmp(kind, "signal") == 0) { /* N signals handled */
		signal(SIGUSR1, probe_handler);
		for (long i = 0; i < n; i++)
			syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
		return probe_handled;
	}
	if (strcmp(kind, "clock") == 0) { /* reads CLOCK_MONOTONIC until N µs have passed */
		struct timespec a, b;
		long reads = 0;
		clock_gettime(CLOCK_MONOTONIC, &a);
		do {
			clock_gettime(CLOCK_MONOTONIC, &b);
			reads++;
		} while ((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000 < n);
		return reads;
	}
	return -1;
}

/* Counts probe KIND with N iterations in a forked child (no exec: counting
 * starts at the SIGSTOP it raises, so start-up costs nothing). */
static int
count_probe(const char *kind, long n, const struct options *o, struct result *r, long *value)
{
	int pipefd[2];
	if (pipe(pipefd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(pipefd[0]);
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
			_exit(125);
		raise(SIGSTOP);
		long v = probe(kind, n);
		if (write(pipefd[1], &v, sizeof(v)) != sizeof(v))
			_exit(125);
		_exit(0);
	}
	close(pipefd[1]);
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status) || trace(pid, o, r) != 0) {
		close(pipefd[0]);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}
	ssize_t got = read(pipefd[0], value, sizeof(*value));
	close(pipefd[0]);
	return got == sizeof(*value) && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0 ? 0 : -1;
}

/* Each probe at N and 11·N: the instructions (and system calls, signals)
 * an iteration, exact where the instruction set says what they are. */
static int
self_test(void)
{
	static const struct {
		const char *kind;
		long n;
		int per_iteration; /* instructions an iteration; -1: whatever it is, a whole number */
		int syscalls, signals;
	} cases[] = {
	        {"loop", 100, 3, 0, 0},  {"rep_movsb", 100, 1, 0, 0}, {"rep_stosb", 100, 1, 0, 0},
	        {"syscall", 20, 4, 1, 0}, {"vdso", 20, -1, 0, 0},     {"signal", 10, -1, 4, 1},
	};
	struct options o = {.ps_per_instruction = 300};
	int failed = 0, number = 0;
	printf("1..%zu\n", sizeof(cases) / sizeof(cases[0]) + 2);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result small = {0}, large = {0};
		long v1 = 0, v2 = 0, n = cases[i].n;
		bool ok = count_probe(cases[i].kind, n, &o, &small, &v1) == 0 &&
		          count_probe(cases[i].kind, 11 * n, &o, &large, &v2) == 0;
		uint64_t d = ok ? large.instructions - small.instructions : 0;
		uint64_t ds = ok ? large.syscalls - small.syscalls : 0, dg = ok ? large.signals - small.signals : 0;
		ok = ok && d % (10 * (uint64_t)n) == 0 && ds == 10 * (uint64_t)n * (uint64_t)cases[i].syscalls &&
		     dg == 10 * (uint64_t)n * (uint64_t)cases[i].signals;
		if (cases[i].per_iteration >= 0)
			ok = ok && d == 10 * (uint64_t)n * (uint64_t)cases[i].per_iteration;
		if (strcmp(cases[i].kind, "signal") == 0)
			ok = ok && v1 == n && v2 == 11 * n;
		number++;
		printf("%s %d - %s: %.2f instructions, %.2f system calls, %.2f signals an iteration (N=%ld, %" PRIu64
		       " and %" PRIu64 " instructions)\n",
		       ok ? "ok" : "not ok", number, cases[i].kind, (double)d / (10.0 * (double)n),
		       (double)ds / (10.0 * (double)n), (double)dg / (10.0 * (double)n), n, small.instructions,
		       large.instructions);
		failed += !ok;
	}
	/* A rep instruction of no iteration is one step, as one of one. */
	struct result zero = {0}, one = {0};
	long ignored;
	bool ok = count_probe("rep_movsb", 0, &o, &zero, &ignored) == 0 && count_probe("rep_movsb", 1, &o, &one, &ignored) == 0 &&
	          zero.instructions == one.instructions;
	number++;
	printf("%s %d - rep_movsb of 0 and of 1 byte: %" PRIu64 " and %" PRIu64 " instructions\n", ok ? "ok" : "not ok", number,
	       zero.instructions, one.instructions);
	failed += !ok;
	/* The virtual clock: at 1 µs an instruction, 500 µs pass in about 500
	 * instructions, whatever the steps cost in real time. */
	struct options slow = {.ps_per_instruction = 1000000};
	struct result r = {0};
	long reads = 0;
	ok = count_probe("clock", 500, &slow, &r, &reads) == 0 && r.instructions >= 500 && r.instructions < 5000;
	number++;
	printf("%s %d - virtual clock: 500 us in %" PRIu64 " instructions, %ld clock reads\n", ok ? "ok" : "not ok", number,
	       r.instructions, reads);
	failed += !ok;
	return failed == 0 ? 0 : 1;
}

static void
usage(void)
{
	fputs("usage: bench_stepcount [-b FUNCTION] [-f] [-R] [-t PS] [-o FILE] [-p FILE] [-e NAME=VALUE]... [--]\n"
	      "                       COMMAND [ARG...]\n"
	      "       bench_stepcount --probe loop|rep_movsb|rep_stosb|syscall|vdso|signal|clock N\n"
	      "       bench_stepcount --self-test\n",
	      stderr);
	exit(125);
}

int
main(int argc, char **argv)
{
	find_vdso_offsets();
	if (argc == 2 && strcmp(argv[1], "--self-test") == 0)
		return self_test();
	if (argc == 4 && strcmp(argv[1], "--probe") == 0) {
		char *end;
		long n = strtol(argv[3], &end, 10);
		if (*end != '\0' || n < 0)
			usage();
		return probe(argv[2], n) < 0 ? 1 : 0;
	}

	struct options o = {.ps_per_instruction = 300};
	char **env = calloc((size_t)argc, sizeof(*env));
	int envs = 0, c;
	if (env == NULL)
		return 125;
	while ((c = getopt(argc, argv, "+b:fRt:o:p:e:")) != -1) {
		char *end;
		switch (c) {
		case 'b':
			o.start_at = optarg;
			break;
		case 'f':
			o.follow = true;
			break;
		case 'R':
			o.randomise = true;
			break;
		case 't':
			errno = 0;
			o.ps_per_instruction = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || optarg[0] == '-')
				usage();
			break;
		case 'o':
			o.out = optarg;
			break;
		case 'p':
			o.profile = optarg;
			break;
		case 'e':
			if (strchr(optarg, '=') == NULL)
				usage();
			env[envs++] = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();

	pid_t pid = fork();
	if (pid < 0) {
		complain("fork");
		return 125;
	}
	if (pid == 0) {
		if (!o.randomise)
			personality(ADDR_NO_RANDOMIZE);
		for (int i = 0; i < envs; i++)
			putenv(env[i]);
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) {
			complain("PTRACE_TRACEME");
			_exit(125);
		}
		execvp(argv[optind], argv + optind);
		complain(argv[optind]);
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid) {
		complain("waitpid");
		return 125;
	}
	if (!WIFSTOPPED(status))
		return exit_code(status); /* the exec failed: said so */
	if (o.start_at != NULL && run_to(pid, o.start_at, &status) != 0) {
		if (WIFSTOPPED(status) || !(WIFEXITED(status) || WIFSIGNALED(status)))
			kill(pid, SIGKILL);
		return 125;
	}
	struct result r;
	if (trace(pid, &o, &r) != 0) {
		kill(pid, SIGKILL);
		return 125;
	}
	print_result(&o, &r);
	if (o.profile != NULL && profile_write(o.profile) != 0)
		return 125;
	return exit_code(r.status);
}
