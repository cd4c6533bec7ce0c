/*
 * test_children: the children table of core/children.c, as a fork child
 * sees it: the parent's children gone after the reset (which clears only
 * the blocks pids were ever put in), and the table exact afterwards.
 */
#include <criterion/criterion.h>

#include "children.h"

static bool
always_gone(pid_t pid)
{
	(void)pid;
	return true;
}

Test(children, reset_forgets_every_child_and_the_table_goes_on)
{
	/* pids spread over the table, some removed (tombstones), some live */
	for (pid_t pid = 100; pid < 100 + 3000; pid++)
		ward_children_add(pid);
	for (pid_t pid = 100; pid < 100 + 3000; pid += 2)
		cr_assert(ward_children_remove(pid));
	cr_assert_eq(ward_children_live(), 1500);
	cr_assert_eq(ward_children_peak(), 3000);

	ward_children_reset();
	cr_assert_eq(ward_children_live(), 0);
	cr_assert_eq(ward_children_peak(), 0);
	for (pid_t pid = 100; pid < 100 + 3000; pid++)
		cr_assert_not(ward_children_remove(pid), "pid %d was the parent's child", (int)pid);
	cr_assert_eq(ward_children_prune(always_gone), 0, "no pid is left in the table");

	/* the child's own children, some with the parent's old pids */
	for (pid_t pid = 2000; pid < 2000 + 4096; pid++)
		ward_children_add(pid);
	cr_assert_eq(ward_children_live(), 4096);
	for (pid_t pid = 2000; pid < 2000 + 4096; pid++)
		cr_assert(ward_children_remove(pid), "pid %d", (int)pid);
	cr_assert_eq(ward_children_live(), 0);
	cr_assert_eq(ward_children_peak(), 4096);
}

Test(children, reset_of_an_empty_table)
{
	ward_children_reset();
	cr_assert_eq(ward_children_live(), 0);
	ward_children_add(42);
	cr_assert_eq(ward_children_live(), 1);
	cr_assert(ward_children_remove(42));
	cr_assert_not(ward_children_remove(42));
}
