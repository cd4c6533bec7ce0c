#!/bin/sh
# Make Debian's libjemalloc_pic.a private to libward.so (TRAPS 10):
#   - every object but the C++ one (operator new would drag in libstdc++),
#     joined into one relocatable object;
#   - its public names (malloc, mallocx, malloc_conf, ...) renamed ward_je_*,
#     so the shim's own malloc family is what programs bind to;
#   - its calls to functions the shim wraps (mmap, open, readlink, ...) sent
#     to raw versions in shim/alloc.c, so the allocator never enters a wrapper
#     (TRAPS 9) and never shows up in the program's figures or the policy;
#   - without its constructor (.init_array: one entry, which only initialises
#     jemalloc early): it starts on the first allocation instead, and not at
#     all in a process whose family is served by glibc (WARD_MALLOC=libc).
#   - only Debian's jemalloc 5.3.0: shim/alloc.c reads the per-thread byte
#     counters at their offsets in that version's thread record (tsd_tls).
# The result is an archive: --exclude-libs then keeps all of it unexported.
# usage: private-jemalloc.sh LIBJEMALLOC_PIC.A SYMBOL_MAP OUTPUT.a LD OBJCOPY AR
set -eu
archive=$(realpath "$1") map=$(realpath "$2") out=$(realpath "$3") ld=$4 objcopy=$5 ar=$6
work=$(mktemp -d "${TMPDIR:-/tmp}/ward-je.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
"$ar" x "$archive"
# The version string jemalloc's ctl reports, in its read-only data.
if ! grep -qa '5\.3\.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c' ./*.o; then
	echo "private-jemalloc: $archive is not jemalloc 5.3.0: the thread counters' offsets in" >&2
	echo "shim/alloc.c (JE_TSD_THREAD_ALLOCATED, _DEALLOCATED) must be measured again for it" >&2
	echo "(docs/PERFORMANCE.md, \"Start-up\": the probe prints them)" >&2
	exit 1
fi
rm -f jemalloc_cpp.pic.o
"$ld" -r -o joined.o ./*.o
"$objcopy" --redefine-syms="$map" --remove-section=.init_array --remove-section=.rela.init_array \
	joined.o private.o
# Nothing the shim wraps may be called from the private copy.
leftover=$(nm -u private.o | awk '{print $2}' | grep -x -E 'mmap|mmap64|munmap|mprotect|madvise|open|open64|creat|close|readlink|sbrk|syscall|malloc|free|calloc|realloc' || true)
if [ -n "$leftover" ]; then
	echo "private-jemalloc: still calls wrapped functions: $leftover" >&2
	exit 1
fi
rm -f "$out"
"$ar" rcs "$out" private.o
