/*
 * fuzz_since - libFuzzer target for the parsers of what users type as
 * times: durations ("7d"), ISO timestamps and --since.  No input may
 * crash or overflow them, and every accepted timestamp must come back
 * unchanged when its normalised form is parsed again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/timeparse.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const long long now = 1796000000000LL;   /* a fixed "now" */
	char s[256], out[TP_ISO_LEN], out2[TP_ISO_LEN], err[128];
	long long ms, ms2, secs;

	if (size >= sizeof(s))
		size = sizeof(s) - 1;
	memcpy(s, data, size);
	s[size] = '\0';
	if (skm__tp_parse_duration(s, &secs, err, sizeof(err)) == 0 && secs <= 0)
		abort();
	if (skm__tp_parse_iso(s, &ms, err, sizeof(err)) == 0) {
		if (skm__tp_format_iso(ms, out) != 0)
			abort();
		if (skm__tp_parse_iso(out, &ms2, err, sizeof(err)) != 0 || ms2 != ms)
			abort();
	}
	if (skm__tp_parse_since(s, now, &ms, out, err, sizeof(err)) == 0) {
		if (ms > now)
			abort();
		if (skm__tp_parse_iso(out, &ms2, err, sizeof(err)) != 0 ||
		    skm__tp_format_iso(ms2, out2) != 0 || strcmp(out, out2) != 0)
			abort();
	} else if (memchr(err, '\0', sizeof(err)) == NULL) {
		abort();
	}
	return 0;
}
