/*
 * libc_syscall.S: the entry of libc's syscall(), interposed.
 *
 * Almost every number goes straight on to ward_syscall_call (libc_syscall.c),
 * which decides and counts it like the libc function that wraps it.  The
 * arguments arrive as for any call: number in %rdi, then %rsi, %rdx, %rcx,
 * %r8, %r9 and the sixth on the stack, so a jump keeps them exactly.
 *
 * Numbers that make a child sharing this memory must not run through a C
 * frame: a child on this stack would return through it while the parent
 * still needs it (TRAPS 14).
 * - vfork, and clone with CLONE_VM|CLONE_VFORK on the caller's stack (what
 *   posix_spawn does): made as vfork.S makes vfork.  limit children is
 *   checked first in C, the return address is kept in %r9 (clone takes five
 *   arguments), ward_in_vfork is raised for the child's life and lowered in
 *   the parent, which then counts the call in C.
 * - clone with CLONE_VM on a stack of its own, clone3: counted first (a
 *   clone3 sharing the descriptor table without memory is refused there),
 *   then made exactly as glibc's syscall() makes them, with no frame of
 *   ours: the child returns as it would without the shim.
 * Under --strict (the gate of core/syscall.h is set: only libc's text may
 * make system calls) the vfork-like ones are made as fork, and the ones
 * sharing memory by a jump to libc's own syscall().
 */
	.text

	.macro	save_arguments
	pushq	%rdi
	pushq	%rsi
	pushq	%rdx
	pushq	%rcx
	pushq	%r8
	pushq	%r9
	subq	$8, %rsp		/* 6 pushes + return address: realign to 16 */
	.endm

	.macro	restore_arguments
	addq	$8, %rsp
	popq	%r9
	popq	%r8
	popq	%rcx
	popq	%rdx
	popq	%rsi
	popq	%rdi
	.endm

	.macro	shift_arguments		/* from the C convention to the kernel's */
	movq	%rdi, %rax
	movq	%rsi, %rdi
	movq	%rdx, %rsi
	movq	%rcx, %rdx
	movq	%r8, %r10
	movq	%r9, %r8
	.endm

	.globl	syscall
	.type	syscall, @function
syscall:
	cmpq	$58, %rdi		/* SYS_vfork */
	je	.Lvfork
	cmpq	$435, %rdi		/* SYS_clone3 */
	je	.Lshared
	cmpq	$56, %rdi		/* SYS_clone */
	jne	ward_syscall_call
	testq	$0x100, %rsi		/* CLONE_VM */
	jz	ward_syscall_call
	testq	$0x4000, %rsi		/* CLONE_VFORK */
	jz	.Lshared
	testq	%rdx, %rdx		/* no stack of its own: it runs on ours */
	jnz	.Lshared

.Lvfork:
	cmpq	$0, ward_syscall_gate(%rip)
	jne	.Lvfork_as_fork
	save_arguments
	call	ward_syscall_vfork_check	/* limit children: 0, or an errno already set */
	restore_arguments
	testl	%eax, %eax
	jz	1f
	movq	$-1, %rax
	ret
1:	movq	ward_in_vfork@GOTTPOFF(%rip), %r11
	addl	$1, %fs:(%r11)
	shift_arguments
	popq	%r9			/* the return address, off the shared stack */
	syscall
	pushq	%r9
	testq	%rax, %rax
	jne	2f
	ret				/* the child */
2:	movq	ward_in_vfork@GOTTPOFF(%rip), %rcx
	subl	$1, %fs:(%rcx)
	movq	%rax, %rdi
	jmp	ward_syscall_vfork_parent	/* counts, sets errno on failure, returns the pid */

.Lvfork_as_fork:
	movq	$57, %rdi		/* SYS_fork: the child gets memory of its own */
	jmp	ward_syscall_call

.Lshared:
	save_arguments
	call	ward_syscall_count_shared	/* 0, or -1 with errno set: refused (clone3) */
	restore_arguments
	testl	%eax, %eax
	jz	5f
	movq	$-1, %rax
	ret
5:	cmpq	$0, ward_syscall_gate(%rip)
	je	4f
	jmp	*ward_libc_syscall(%rip)	/* libc's syscall(), as the program asked */
4:	shift_arguments
	movq	8(%rsp), %r9
	syscall
	cmpq	$-4095, %rax
	jae	3f
	ret
3:	negq	%rax			/* failed: no child; errno, -1 */
	pushq	%rax
	call	__errno_location@PLT
	popq	%rcx
	movl	%ecx, (%rax)
	movq	$-1, %rax
	ret
	.size	syscall, .-syscall

	.section .note.GNU-stack, "", @progbits
