/*
 * rules.h - the shim's rules file: which command lines record which skill.
 */
#ifndef SKM_SHIM_RULES_H
#define SKM_SHIM_RULES_H

#include <stddef.h>

/*
 * rules_path - the rules file: $SKM_RULES if set and not empty, else
 * $XDG_CONFIG_HOME/skm/rules, else $HOME/.config/skm/rules.  Writes it
 * into buf; returns 0, or -1 when there is none or it does not fit.
 */
int rules_path(char *buf, size_t size);

/*
 * rules_match - the skill of the first rule in the file at path whose
 * pattern matches cmdline (argv joined by single spaces), copied into
 * skill (size bytes).  Returns 1 on a match, 0 when nothing matches or the
 * file cannot be read.  Malformed lines are skipped; when debug is set,
 * each one is reported through warn(line number, reason) (line 0: the
 * file could not be read) and the whole
 * file is read even after a match.  Maps (mmap, never the heap) no more
 * than the file.
 */
int rules_match(const char *path, const char *cmdline, char *skill,
    size_t size, int debug, void (*warn)(const char *path, int line,
    const char *why));

#endif /* SKM_SHIM_RULES_H */
