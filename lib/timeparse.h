/*
 * timeparse.h - parsing of the times and durations users type (internal
 * to libskm; kept in a header of its own so a fuzzer can link just
 * timeparse.c).  Nothing here touches SQL: the results are bound as
 * parameters by the callers.
 */
#ifndef SKM_TIMEPARSE_H
#define SKM_TIMEPARSE_H

#include <stddef.h>

/* Room for a normalised timestamp "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 bytes)
 * and its NUL. */
#define TP_ISO_LEN 32

/*
 * skm__tp_parse_duration - "30m", "12h", "7d", "4w" (a positive whole number
 * and a unit: s, m, h, d or w) into *secs.  At most 100 years.  Returns 0,
 * or -1 with a message in err (size errlen).
 */
int skm__tp_parse_duration(const char *s, long long *secs, char *err,
    size_t errlen);

/*
 * skm__tp_parse_iso - an ISO-8601 timestamp into milliseconds since the Unix
 * epoch (UTC): "YYYY-MM-DD", "YYYY-MM-DDTHH:MM", "...:SS", "...:SS.fff"
 * (any number of fraction digits; milliseconds kept, the rest cut), 'T' or
 * one space between date and time, then "Z", "+HH:MM", "-HH:MM", "+HHMM",
 * "+HH" or nothing (UTC).  Years 0001..9999; every field range-checked
 * (February 29 only in leap years).  Returns 0, or -1 with a message.
 */
int skm__tp_parse_iso(const char *s, long long *ms, char *err, size_t errlen);

/* skm__tp_format_iso - ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ".
 * Returns 0, or -1 outside years 0001..9999. */
int skm__tp_format_iso(long long ms, char out[TP_ISO_LEN]);

/*
 * skm__tp_parse_since - what `--since` accepts: a duration back from now_ms
 * ("7d") or a timestamp (skm__tp_parse_iso).  *ms gets the instant and, when
 * out is not NULL, its normalised form.  A time after now_ms is refused.
 * Returns 0, or -1 with a message.
 */
int skm__tp_parse_since(const char *s, long long now_ms, long long *ms,
    char out[TP_ISO_LEN], char *err, size_t errlen);

/* The current time in ms since the epoch. */
long long skm__tp_now_ms(void);

#endif /* SKM_TIMEPARSE_H */
