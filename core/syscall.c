/*
 * syscall.c: the gate of core/syscall.h (NULL: system calls in line).
 */
#include "syscall.h"

ward_syscall_gate_fn ward_syscall_gate;
