/* redact.h - hide secrets in a recorded command line (redact.c). */
#ifndef SKM_REDACT_H
#define SKM_REDACT_H

#define REDACTED "***"

/*
 * redact_word - the word to record for argument arg: arg itself, or a
 * malloc'd copy with secrets replaced by REDACTED.  *hide_next is set when
 * arg is an option naming a secret whose value is the next argument, and
 * read on entry to hide this one.  extra: $SKM_REDACT, more option-name
 * globs separated by ':' or ','; may be NULL.  Returns NULL only when out
 * of memory.
 */
char *redact_word(const char *arg, int *hide_next, const char *extra);

#endif
