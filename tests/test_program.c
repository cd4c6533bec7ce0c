/*
 * test_program: core/program on files made here: what an exec would start
 * and whether the loader would preload into it (SPEC 5.4).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "program.h"

static char *dir;
static char buf[PATH_MAX];
static struct ward_program program;

static const char *
in_dir(const char *name)
{
	path_in(buf, dir, name);
	return buf;
}

static void
put(const char *name, const void *data, size_t len, mode_t mode)
{
	cr_assert(file_write(in_dir(name), data, len));
	cr_assert_eq(chmod(in_dir(name), mode), 0);
}

static void
setup(void)
{
	dir = tmpdir_make();
}

static void
teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(program, .init = setup, .fini = teardown);

Test(program, a_dynamic_system_program_is_confined)
{
	ward_program_inspect(AT_FDCWD, "/bin/true", false, &program);
	cr_expect_eq(program.error, 0);
	cr_expect_eq(program.levels, 1);
	cr_expect_null(program.unconfined, "%s", program.unconfined);
}

Test(program, every_script_level_is_listed)
{
	char text[PATH_MAX + 8];
	snprintf(text, sizeof(text), "#! /bin/sh -e\n");
	put("two", text, strlen(text), 0755);
	snprintf(text, sizeof(text), "#!%s/two arg\n", dir);
	put("one", text, strlen(text), 0755);
	ward_program_inspect(AT_FDCWD, in_dir("one"), false, &program);
	cr_expect_eq(program.error, 0);
	cr_assert_eq(program.levels, 3);
	cr_expect_str_eq(ward_program_level(&program, 1, NULL), in_dir("two"));
	cr_expect_str_eq(ward_program_level(&program, 2, NULL), "/bin/sh");
}

Test(program, a_missing_interpreter_fails_with_enoent)
{
	put("script", "#!/nonexistent/sh\n", 18, 0755);
	ward_program_inspect(AT_FDCWD, in_dir("script"), false, &program);
	cr_expect_eq(program.error, ENOENT);
	cr_expect_eq(program.levels, 1, "the script itself is opened, and decided");
	put("plain", "echo hi\n", 8, 0755);
	ward_program_inspect(AT_FDCWD, in_dir("plain"), false, &program);
	cr_expect_eq(program.error, ENOEXEC);
	ward_program_inspect(AT_FDCWD, in_dir("plain"), true, &program);
	cr_expect_eq(program.error, 0, "execvp runs it with /bin/sh");
	cr_expect_str_eq(ward_program_level(&program, 1, NULL), "/bin/sh");
	put("noexec", "#!/bin/sh\n", 10, 0644);
	ward_program_inspect(AT_FDCWD, in_dir("noexec"), false, &program);
	cr_expect_eq(program.error, EACCES);
	cr_expect_eq(program.levels, 0);
}

Test(program, a_32_bit_elf_is_unconfined)
{
	Elf32_Ehdr eh = { 0 };
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS32;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_386;
	eh.e_ehsize = sizeof(eh);
	put("old", &eh, sizeof(eh), 0755);
	ward_program_inspect(AT_FDCWD, in_dir("old"), false, &program);
	cr_expect_eq(program.error, 0);
	cr_expect(program.unconfined != NULL && strstr(program.unconfined, "32-bit") != NULL, "%s",
	          program.unconfined ? program.unconfined : "(confined)");
}

Test(program, set_user_id_to_another_user_is_unconfined)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to give a file away");
	size_t len;
	char *data = file_read("/bin/true", &len);
	put("suid", data, len, 0755);
	free(data);
	cr_assert_eq(chown(in_dir("suid"), 65534, 65534), 0);
	cr_assert_eq(chmod(in_dir("suid"), 04755), 0);
	ward_program_inspect(AT_FDCWD, in_dir("suid"), false, &program);
	cr_expect_str_eq(program.unconfined ? program.unconfined : "", "set-user-ID or set-group-ID");
}

Test(program, search_skips_what_glibc_skips)
{
	mkdir(in_dir("a"), 0755);
	mkdir(in_dir("b"), 0755);
	put("a/tool", "#!/nonexistent/sh\n", 18, 0755);
	put("b/tool", "#!/bin/sh\n", 10, 0755);
	char path_env[2 * PATH_MAX + 2], out[PATH_MAX];
	snprintf(path_env, sizeof(path_env), "%s/a:%s/b", dir, dir);
	const char *found = ward_program_search("tool", path_env, false, out, sizeof(out), &program);
	cr_assert_not_null(found);
	cr_expect_str_eq(found, in_dir("b/tool"));
	cr_expect_null(ward_program_search("no-such-tool", path_env, false, out, sizeof(out), &program));
	cr_expect_eq(program.error, ENOENT);
	cr_expect_null(ward_program_search("tool", in_dir("a"), false, out, sizeof(out), &program));
	cr_expect_eq(program.error, ENOENT);
}
