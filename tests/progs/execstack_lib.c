/* A library whose PT_GNU_STACK asks for an executable stack (-z execstack). */
int
execstack_lib(void)
{
	return 1;
}
