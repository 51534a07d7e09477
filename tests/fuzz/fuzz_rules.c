/*
 * fuzz_rules - libFuzzer target for the shim's rules-file parser.  The
 * input's first line is the command line to match; the rest is the rules
 * file.  Any input must be parsed without a crash, leak or overflow, and a
 * match must yield a non-empty, NUL-terminated skill that fits.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../shim/rules.h"

static void
quiet(const char *path, int line, const char *why)
{
	(void)path;
	(void)line;
	(void)why;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char cmd[4096], path[64], skill[300];
	const uint8_t *nl = memchr(data, '\n', size);
	size_t clen = nl != NULL ? (size_t)(nl - data) : size;
	int fd, r;

	if (clen >= sizeof(cmd))
		clen = sizeof(cmd) - 1;
	memcpy(cmd, data, clen);
	cmd[clen] = '\0';
	if ((fd = memfd_create("rules", MFD_CLOEXEC)) == -1)
		return 0;
	if (nl != NULL && write(fd, nl + 1, size - clen - 1) < 0) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	memset(skill, 'Z', sizeof(skill));
	r = rules_match(path, cmd, skill, sizeof(skill), 1, quiet);
	if (r == 1 && (skill[0] == '\0' || memchr(skill, '\0',
	    sizeof(skill)) == NULL))
		__builtin_trap();
	close(fd);
	return 0;
}
