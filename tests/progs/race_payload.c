/*
 * race_payload: the programs race_exec runs.  Built twice: as the allowed
 * program (exits 0) and as the forbidden one (exits RACE_PAYLOAD_EXIT, 42),
 * so the victim sees in the exit status which one really ran.
 */
#ifndef RACE_PAYLOAD_EXIT
#define RACE_PAYLOAD_EXIT 0
#endif

int
main(void)
{
	return RACE_PAYLOAD_EXIT;
}
