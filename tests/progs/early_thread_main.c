/* early_thread_main: prints what libearly_thread's thread reached (see
 * early_thread.c); exit 0 when it ran and reached nothing, 1 when it
 * reached the file, 2 when it did not run. */
#include <stdio.h>

extern long early_tries, early_reached;
int early_thread_join(void);

int
main(void)
{
	if (early_thread_join() != 0)
		return 2;
	printf("tries=%ld reached=%ld\n", early_tries, early_reached);
	return early_reached != 0 ? 1 : 0;
}
