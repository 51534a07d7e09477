/*
 * test_redact.c - the redaction and quoting of recorded command lines
 * (lib/redact.c), which skm-run, the shim and import share: one table row
 * per case of issue 11 and of the rules in redact.c's comment, each an
 * argv and the line that must be stored; then the cut of a long line, an
 * imported line, and project detection (lib/recopt.c).
 */
#include <sys/stat.h>

#include "unit.h"
#include "recorder.h"

#define JWT "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlX2hlcmU"

static const struct {
	const char *argv[8];
	const char *extra;
	const char *want;
} cases[] = {
	/* kept as they are */
	{ { "make", "-j4", "all", NULL }, NULL, "make -j4 all" },
	{ { "echo", "it's", "", "a b", NULL }, NULL,
	    "echo 'it'\\''s' '' 'a b'" },
	{ { "git", "clone", "git@github.com:o/r.git", NULL }, NULL,
	    "git clone git@github.com:o/r.git" },
	{ { "docker", "run", "-p", "8080:80", "img", NULL }, NULL,
	    "docker run -p 8080:80 img" },
	{ { "pip", "install", "scikit-learn", "task-runner", NULL }, NULL,
	    "pip install scikit-learn task-runner" },
	{ { "docker", "pull", "img:1.2@sha256:abcdef", NULL }, NULL,
	    "docker pull img:1.2@sha256:abcdef" },
	/* --name=value, NAME=value */
	{ { "/bin/echo", "--password=hunter2", NULL }, NULL,
	    "/bin/echo '--password=***'" },
	{ { "env", "MYSQL_PWD=hunter2", "mysql", NULL }, NULL,
	    "env 'MYSQL_PWD=***' mysql" },
	{ { "env", "API_TOKEN=abc", "AWS_SECRET_ACCESS_KEY=x", "PWD=/tmp", NULL },
	    NULL, "env 'API_TOKEN=***' 'AWS_SECRET_ACCESS_KEY=***' PWD=/tmp" },
	{ { "java", "-Ddb.password=pw", "-jar", "x.jar", NULL }, NULL,
	    "java '-Ddb.password=***' -jar x.jar" },
	/* --name value */
	{ { "/bin/echo", "--token", "abc", "next", NULL }, NULL,
	    "/bin/echo --token '***' next" },
	{ { "tool", "--pass", "x", NULL }, NULL, "tool --pass '***'" },
	{ { "tool", "--api-key", "x", NULL }, NULL, "tool --api-key '***'" },
	{ { "tool", "--pin", "1234", NULL }, "*pin*", "tool --pin '***'" },
	/* -p for tools known to take a password so */
	{ { "mysql", "-phunter2", "db", NULL }, NULL, "mysql '-p***' db" },
	{ { "mysql", "-u", "root", "-p", "hunter2", NULL }, NULL,
	    "mysql -u root -p '***'" },
	{ { "/usr/bin/mysqldump", "-phunter2", NULL }, NULL,
	    "/usr/bin/mysqldump '-p***'" },
	{ { "docker", "login", "-u", "bob", "-p", "hunter2", "reg", NULL }, NULL,
	    "docker login -u bob -p '***' reg" },
	{ { "sshpass", "-phunter2", "ssh", "host", NULL }, NULL,
	    "sshpass '-p***' ssh host" },
	{ { "redis-cli", "-a", "hunter2", "ping", NULL }, NULL,
	    "redis-cli -a '***' ping" },
	/* curl -u USER:PW */
	{ { "curl", "-u", "alice:pw", "https://h/", NULL }, NULL,
	    "curl -u 'alice:***' https://h/" },
	{ { "curl", "-ualice:pw", NULL }, NULL, "curl '-ualice:***'" },
	{ { "curl", "--user=alice:pw", NULL }, NULL, "curl '--user=alice:***'" },
	/* headers */
	{ { "curl", "-H", "Authorization: Bearer abc", NULL }, NULL,
	    "curl -H 'Authorization: ***'" },
	{ { "curl", "-H", "Authorization:Bearer abc", NULL }, NULL,
	    "curl -H 'Authorization:***'" },
	{ { "curl", "-H", "X-Api-Key:abc", NULL }, NULL,
	    "curl -H 'X-Api-Key:***'" },
	{ { "curl", "-H", "Cookie: session=abc", NULL }, NULL,
	    "curl -H 'Cookie: ***'" },
	/* URLs */
	{ { "/bin/echo", "https://bob:pw@host/", NULL }, NULL,
	    "/bin/echo 'https://bob:***@host/'" },
	{ { "git", "clone", "https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/o/r", NULL },
	    NULL, "git clone 'https://***@github.com/o/r'" },
	{ { "git", "clone", "https://oauth2:glpat-abcdefghijklmnopqrst@gitlab.com/o/r", NULL },
	    NULL, "git clone 'https://oauth2:***@gitlab.com/o/r'" },
	{ { "rsync", "bob:pw@host", NULL }, NULL, "rsync 'bob:***@host'" },
	{ { "ssh", "ssh://git@host/r", NULL }, NULL, "ssh ssh://git@host/r" },
	/* bare tokens */
	{ { "gh", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", NULL }, NULL,
	    "gh '***'" },
	{ { "x", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop", NULL }, NULL,
	    "x '***'" },
	{ { "x", "glpat-abcdefghijklmnopqrst", NULL }, NULL, "x '***'" },
	{ { "x", "xoxb-1234567890-abcdefghij", "xoxp-1234567890-abc", NULL },
	    NULL, "x '***' '***'" },
	{ { "x", "AKIAIOSFODNN7EXAMPLE", NULL }, NULL, "x '***'" },
	{ { "x", "--header=sk-proj-abcdefghijklmnopqrstuvwxyz", NULL }, NULL,
	    "x '--header=***'" },
	{ { "x", "sk-abcdefghijklmnopqrstuvwxyz", NULL }, NULL, "x '***'" },
	{ { "x", JWT, NULL }, NULL, "x '***'" },
	{ { "x", "token=" JWT, NULL }, NULL, "x 'token=***'" },
	/* scripts */
	{ { "sh", "-c", "mysql --password=hunter2 db", NULL }, NULL,
	    "sh -c 'mysql --password=*** db'" },
	{ { "bash", "-c", "export API_TOKEN=abc; ./x", NULL }, NULL,
	    "bash -c 'export API_TOKEN=***; ./x'" },
	{ { "sh", "-c", "mysql -phunter2 db && echo ok", NULL }, NULL,
	    "sh -c 'mysql -p*** db && echo ok'" },
	{ { "sh", "-c", "curl -H 'Authorization: Bearer abc' https://h", NULL },
	    NULL, "sh -c 'curl -H '\\''Authorization: ***'\\'' https://h'" },
	{ { "sh", "-c", "tool --token \"a b\" go", NULL }, NULL,
	    "sh -c 'tool --token \"***\" go'" },
	{ { "ssh", "host", "git clone https://u:pw@h/r", NULL }, NULL,
	    "ssh host 'git clone https://u:***@h/r'" },
	/* what a script says ends with it */
	{ { "sh", "-c", "x --token", "arg", NULL }, NULL,
	    "sh -c 'x --token' arg" },
};

static void
every_case_is_redacted_as_the_table_says(void)
{
	char buf[4096];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		skm__command_line(buf, sizeof(buf), -1,
		    (char *const *)cases[i].argv, cases[i].extra);
		if (strcmp(buf, cases[i].want) != 0)
			printf("# case %zu\n", i);
		CHECK_STR(buf, cases[i].want);
	}
}

static void
a_long_line_is_cut_with_dots_at_a_character_boundary(void)
{
	char *argv[] = { "echo", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", NULL };
	char buf[12];
	size_t n;

	/* "echo " + 4 bytes of room: cut inside the second é is backed off */
	n = skm__command_line(buf, sizeof(buf), -1, argv, NULL);
	CHECK_INT(n, strlen(buf));
	CHECK(n < sizeof(buf));
	CHECK(n >= 3 && strcmp(buf + n - 3, "...") == 0);
	CHECK(strncmp(buf, "echo ", 5) == 0);
	/* no broken character: only whole é (2 bytes) between */
	CHECK((n - 3 - 6) % 2 == 0);
}

static void
argc_bounds_the_words(void)
{
	char *argv[] = { "a", "--password", "b", NULL };
	char buf[64];

	skm__command_line(buf, sizeof(buf), 2, argv, NULL);
	CHECK_STR(buf, "a --password");
}

static void
an_imported_line_is_redacted_the_same_way(void)
{
	char buf[256];

	skm__redact_line(buf, sizeof(buf),
	    "mysql '--password=hunter2' -phunter2 db", NULL);
	CHECK_STR(buf, "mysql '--password=***' -p*** db");
	skm__redact_line(buf, sizeof(buf),
	    "curl -H 'Authorization:Bearer abc' https://bob:pw@h/", NULL);
	CHECK_STR(buf, "curl -H 'Authorization:***' https://bob:***@h/");
	skm__redact_line(buf, sizeof(buf), "make -j4 all", NULL);
	CHECK_STR(buf, "make -j4 all");
}

static void
the_project_is_the_nearest_git_directory_upward(void)
{
	char dir[512], sub[600], buf[1024], old[1024];

	CHECK(getcwd(old, sizeof(old)) != NULL);
	snprintf(dir, sizeof(dir), "%s/p", unit_dir);
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	CHECK(mkdir(dir, 0700) == 0);
	snprintf(buf, sizeof(buf), "%s/.git", dir);
	CHECK(mkdir(buf, 0700) == 0);
	snprintf(buf, sizeof(buf), "%s/a", dir);
	CHECK(mkdir(buf, 0700) == 0);
	CHECK(mkdir(sub, 0700) == 0);
	CHECK(chdir(sub) == 0);
	CHECK_INT(skm__find_project(buf, sizeof(buf)), 0);
	CHECK_STR(buf, dir);
	/* no .git anywhere above: the working directory */
	CHECK(chdir(unit_dir) == 0);
	CHECK_INT(skm__find_project(buf, sizeof(buf)), 0);
	CHECK_STR(buf, unit_dir);
	/* too small a buffer */
	CHECK_INT(skm__find_project(buf, 2), -1);
	CHECK(chdir(old) == 0);
}

int
main(void)
{
	RUN(every_case_is_redacted_as_the_table_says);
	RUN(a_long_line_is_cut_with_dots_at_a_character_boundary);
	RUN(argc_bounds_the_words);
	RUN(an_imported_line_is_redacted_the_same_way);
	RUN(the_project_is_the_nearest_git_directory_upward);
	return unit_done();
}
