/*
 * syscall.c: the gate of core/syscall.h (NULL: system calls in line).
 */
#include "syscall.h"

void *ward_syscall_gate;
