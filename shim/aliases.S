/*
 * aliases.S: glibc's second public names of functions the table wraps
 * (calls.def's WARD_ALIAS lines: __open, _IO_fopen, __libc_malloc, ...).
 * A program that calls one reaches the same code as the first name, so
 * each is a jump to that name's wrapper: the arguments, the variadic
 * register count and the return address are untouched, the call is decided
 * and counted exactly as the first name (its row in the figures).
 */
#define WARD_CALL(...)
#define WARD_CALL_VOID(...)
#define WARD_CALL_CUSTOM(name)
#define WARD_ALIAS(alias, name)         \
	.globl alias;                   \
	.type alias, @function;         \
alias:                                  \
	jmp name@PLT;                   \
	.size alias, .-alias;

	.text
#include "calls.def"

	.section .note.GNU-stack, "", @progbits
