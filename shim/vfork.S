/*
 * vfork.S: vfork with a mark the child can see.
 *
 * The child of vfork runs on its parent's stack, in its parent's memory,
 * with its parent's thread-local storage, until it execs or exits.  A C
 * wrapper could not do anything after vfork returns (TRAPS 14), so this one
 * is written like libc's own: the return address is kept in a register, not
 * on the stack the child may reuse.  Before the system call it raises
 * ward_in_vfork; the child keeps it raised (the shim then changes nothing
 * the parent owns: no counting, no descriptor table, no stats descriptor
 * rescue), and the parent, resumed once the child has exec'd or exited,
 * lowers it and counts the call in C.  Before all that, a C call checks
 * limit children (the stack is still the caller's then).
 *
 * Under --strict (the system call gate of core/syscall.h is set) the
 * kernel would trap a vfork made here, outside libc's text: it is made as
 * a fork instead (ward_vfork_as_fork), which every correct vfork child
 * tolerates, and whose child is watched like any fork child.
 */
	.text
	.globl	vfork
	.type	vfork, @function
vfork:
	cmpq	$0, ward_syscall_gate(%rip)
	jne	ward_vfork_as_fork
	subq	$8, %rsp		/* align the stack for a C call */
	call	ward_vfork_check	/* limit children: 0, or an errno already set */
	addq	$8, %rsp
	testl	%eax, %eax
	jz	2f
	movq	$-1, %rax
	ret
2:	movq	ward_in_vfork@GOTTPOFF(%rip), %rax
	addl	$1, %fs:(%rax)
	popq	%rdx
	movl	$58, %eax		/* SYS_vfork */
	syscall
	pushq	%rdx
	testq	%rax, %rax
	jne	1f
	ret				/* the child */
1:	movq	ward_in_vfork@GOTTPOFF(%rip), %rcx
	subl	$1, %fs:(%rcx)
	movq	%rax, %rdi
	jmp	ward_vfork_parent	/* counts, sets errno on failure, returns the pid */
	.size	vfork, .-vfork

	.section .note.GNU-stack, "", @progbits
