/*
 * inprocess.c - libskm's hooks in a real program: it records one
 * invocation of the skill "example-count-lines" around counting the lines
 * of the files named on its command line, with a workflow path, a
 * follow-up action and the real outcome, then prints the skill's metrics.
 *
 *	cc inprocess.c $(pkg-config --cflags --libs skm) -o inprocess
 *	./inprocess /etc/passwd /etc/hosts
 *
 * A failure of the store never stops the program's own work: it only
 * loses the record, and says so once.
 */
#include <stdio.h>
#include <stdlib.h>

#include "skm.h"

static long
count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	long n = 0;
	int c;

	if (f == NULL)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

int
main(int argc, char *argv[])
{
	struct skm_begin_info bi = { .skill = "example-count-lines",
	    .workflow = argc > 2 ? "many-files" : "one-file" };
	struct skm_end_info ei = SKM_END_INFO_INIT;
	static const char *const follow[] = { "print-metrics" };
	struct skm_query_args qa = { .skill = "example-count-lines" };
	struct skm_db *db;
	struct skm_inv *inv = NULL;
	char *json;
	int i, failed = 0;

	if (skm_open(NULL, 0, &db) != SKM_OK)
		fprintf(stderr, "inprocess: not recording: %s\n",
		    skm_errmsg(db));
	else if (skm_begin(db, &bi, &inv) != SKM_OK)
		fprintf(stderr, "inprocess: not recording: %s\n",
		    skm_errmsg(db));

	for (i = 1; i < argc; i++) {
		long n = count_lines(argv[i]);
		if (n < 0) {
			perror(argv[i]);
			failed = 1;
			continue;
		}
		printf("%8ld %s\n", n, argv[i]);
	}

	if (inv != NULL) {
		ei.completed = !failed;
		ei.exit_code = failed;
		if (failed)
			ei.error_type = "unreadable-file";
		ei.follow_ups = follow;
		ei.n_follow_ups = 1;
		if (skm_end(inv, &ei) != SKM_OK)
			fprintf(stderr, "inprocess: not recorded: %s\n",
			    skm_errmsg(db));
		else if (skm_query_json(db, SKM_Q_SHOW, &qa, &json) == SKM_OK) {
			printf("%s\n", json);
			skm_free(json);
		}
	}
	skm_close(db);
	return failed;
}
