/* schema.h - the list of migrations (schema.c). */
#ifndef SKM_SCHEMA_H
#define SKM_SCHEMA_H

struct skm_migration {
	int version;
	const char *description;
	const char *sql;
	/* Run after sql when the store has been synced (a sync_state row):
	 * what sync made on a table the migration replaced.  May be NULL. */
	const char *if_synced;
	/* 1: it moves every invocation to a new table, so the old one's
	 * pages are free afterwards: the store is vacuumed (store.c). */
	int moves_rows;
};

extern const struct skm_migration skm__migrations[];
extern const int skm__nmigrations;
void skm__schema_checksum(const struct skm_migration *m, char out[17]);

/* sync.c's triggers on invocation, made by a store's first sync. */
extern const char skm__sync_triggers_sql[];

/*
 * The stored forms of invocation's columns as the view skill_invocation
 * shows them, in plain SQL (any SQLite, the sqlite3 shell, reads the
 * view).  c: an SQL expression of the stored value, used more than once.
 *
 * SKM__SQL_ISO - integer milliseconds since the epoch as ISO-8601 UTC with
 * milliseconds ("2026-01-05T10:00:00.000Z"); NULL and anything not an
 * integer as it is.
 * SKM__SQL_UUID - a 16-byte id as lowercase UUID text; text as it is.
 * skm's own SQL uses the C functions skm_iso() and skm_uuid() (store.c),
 * which give the same text (tests/unit/test_store.c compares them).
 */
#define SKM__SQL_MSFRAC(c) "(((" c ") % 1000 + 1000) % 1000)"
#define SKM__SQL_ISO(c)							\
	"CASE WHEN typeof(" c ") = 'integer' THEN "			\
	"strftime('%Y-%m-%dT%H:%M:%S', ((" c ") - " SKM__SQL_MSFRAC(c)	\
	") / 1000, 'unixepoch') || printf('.%03dZ', " SKM__SQL_MSFRAC(c)	\
	") ELSE " c " END"
#define SKM__SQL_UUID(c)						\
	"CASE WHEN typeof(" c ") = 'blob' THEN lower("			\
	"substr(hex(" c "), 1, 8) || '-' || substr(hex(" c "), 9, 4) || '-' || " \
	"substr(hex(" c "), 13, 4) || '-' || substr(hex(" c "), 17, 4) || "	\
	"'-' || substr(hex(" c "), 21)) ELSE " c " END"

#endif
