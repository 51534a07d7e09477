/*
 * safeout.h - what skm prints as JSON or CSV, made safe for a terminal
 * at the output layer (runner/safeout.c).
 */
#ifndef SKM_SAFEOUT_H
#define SKM_SAFEOUT_H

#include <stdio.h>

enum safeout_mode {
	SAFEOUT_JSON,	/* JSON text, one document or JSON Lines */
	SAFEOUT_CSV	/* RFC 4180 CSV, text fields quoted */
};

#define SAFEOUT_SPREADSHEET 0x1	/* CSV: guard fields a spreadsheet runs */
#define SAFEOUT_EXACT 0x2	/* JSON: keep bytes that are not UTF-8 in a
				 * file (export: import reads them back) */

/*
 * safeout_open - a stream whose bytes reach fp made safe for mode:
 *
 *   JSON: every C0 control but the newline between documents, DEL, every
 *     C1 control and the bidirectional controls U+202A-U+202E and
 *     U+2066-U+2069 are written as \uXXXX (inside JSON they can only be
 *     in strings, so this is exact: a parser reads the same text); a byte
 *     that is not UTF-8 becomes \ufffd (JSON is UTF-8 text: a strict
 *     parser refuses the byte, a terminal may take 0x9b for CSI), unless
 *     SAFEOUT_EXACT is given and fp is not a terminal.
 *   CSV: on a terminal, the same characters and invalid bytes are written
 *     as visible escapes (\x1b, \u009b), except the CRLF/LF ending a
 *     record; in a file the data stays exact.  With SAFEOUT_SPREADSHEET a
 *     text field starting with = + - @ TAB or CR gets a leading ' so that
 *     a spreadsheet takes it as text, not as a formula.
 *
 * Returns the stream, or NULL (errno set) when it cannot be made.  Close
 * it with fclose(), which flushes it into fp (fp itself stays open).
 */
FILE *safeout_open(FILE *fp, enum safeout_mode mode, int flags);

#endif /* SKM_SAFEOUT_H */
