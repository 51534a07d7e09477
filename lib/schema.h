/* schema.h - the list of migrations (schema.c). */
#ifndef SKM_SCHEMA_H
#define SKM_SCHEMA_H

struct skm_migration {
	int version;
	const char *description;
	const char *sql;
};

extern const struct skm_migration skm__migrations[];
extern const int skm__nmigrations;
void skm__schema_checksum(const struct skm_migration *m, char out[17]);

#endif
