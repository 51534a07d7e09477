/*
 * fuzz_redact - libFuzzer target for the redaction and quoting of
 * recorded command lines (lib/redact.c): the input, split at NUL bytes,
 * is an argv.  The line must fit its buffer and be NUL-terminated; each
 * word's hidden parts must be ordered, inside the word and disjoint; a
 * word after one that names a secret (--token) must be hidden whole; and
 * the input read as an imported line must come back within its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/recorder.h"

#define MAXARGS 64

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct skm__span sp[SKM__MAX_SPANS];
	struct skm__redact r;
	char *buf = malloc(size + 1), *argv[MAXARGS + 1], *p, out[512];
	size_t len;
	int argc = 0, n, i, hide;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	skm__redact_init(&r, "*pin*,o[tp]p");
	for (p = buf; p <= buf + size && argc < MAXARGS; p += strlen(p) + 1) {
		argv[argc++] = p;
		len = strlen(p);
		hide = r.hide_next;
		n = skm__redact_spans(&r, p, len, sp);
		if (n < 0 || n > SKM__MAX_SPANS)
			abort();
		for (i = 0; i < n; i++)
			if (sp[i].from >= sp[i].to || sp[i].to > len ||
			    (i > 0 && sp[i].from <= sp[i - 1].to))
				abort();
		if (hide && len > 0 && (n != 1 || sp[0].from != 0 ||
		    sp[0].to != len))
			abort();
	}
	argv[argc] = NULL;
	len = skm__command_line(out, sizeof(out), argc, argv, "*pin*");
	if (len >= sizeof(out) || out[len] != '\0' || strlen(out) != len)
		abort();
	len = skm__redact_line(out, sizeof(out), buf, NULL);
	if (len >= sizeof(out) || strlen(out) != len)
		abort();
	free(buf);
	return 0;
}
