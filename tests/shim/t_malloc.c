/*
 * t_malloc - a host that counts the heap calls made outside its main: in
 * the constructors before main (the shim's included) and on the way out
 * after main.  Its own malloc, calloc, realloc and free (the executable's
 * names come first, so a preloaded library's calls land here) forward to
 * glibc's.  Before main they are counted and the count printed first
 * thing in main; after main each one writes "M" on stdout with write(2).
 * Run with and without the shim, its output must be the same.
 *
 *	t_malloc exit|_exit
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static volatile int phase;      /* 0 before main, 1 in main, 2 after */
static unsigned long before;

static void
note(void)
{
	if (phase == 0)
		before++;
	else if (phase == 2)
		(void)!write(1, "M", 1);
}

/* Exported (the build hides names by default, and -rdynamic puts them
 * in the dynamic table), so that they are the ones every library binds. */
#define HOST_EXPORT __attribute__((visibility("default")))

HOST_EXPORT void *malloc(size_t n) { note(); return __libc_malloc(n); }
HOST_EXPORT void *calloc(size_t n, size_t k) { note(); return __libc_calloc(n, k); }
HOST_EXPORT void *realloc(void *p, size_t n) { note(); return __libc_realloc(p, n); }
HOST_EXPORT void free(void *p) { if (p != NULL) note(); __libc_free(p); }

int
main(int argc, char **argv)
{
	char line[64];
	int n;

	phase = 1;
	n = snprintf(line, sizeof(line), "before main: %lu\n", before);
	(void)!write(1, line, (size_t)n);
	phase = 2;
	if (argc > 1 && strcmp(argv[1], "_exit") == 0)
		_exit(0);
	exit(0);
}
