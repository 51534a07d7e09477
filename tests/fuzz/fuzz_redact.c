/*
 * fuzz_redact - libFuzzer target for the redaction of recorded command
 * lines: the input, split at NUL bytes, is an argv.  Every word must come
 * back as a string, and a word that names a secret must hide the next.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../runner/redact.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *p, *w;
	int hide = 0;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (p = buf; p <= buf + size; p += strlen(p) + 1) {
		int was_hidden = hide;
		if ((w = redact_word(p, &hide, "*pin*,o[tp]p")) == NULL)
			abort();
		if (was_hidden && strcmp(w, REDACTED) != 0)
			abort();
		free(w);
	}
	free(buf);
	return 0;
}
