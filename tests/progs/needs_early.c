/*
 * needs_early: a program linked with libearly_needed.so (early.c), whose
 * constructor runs before those of preloaded libraries and opens
 * EARLY_FILE; the program itself does nothing.
 */
int early_linked(void);

int
main(void)
{
	return early_linked();
}
