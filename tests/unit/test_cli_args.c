/*
 * Unit tests: procurectl's command lines (cli/args.c), server URLs
 * (cli/http.c), the configuration file and verifier keys (cli/config.c),
 * exit statuses (cli/util.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/args.c"
#include "cli/config.c"
#include "cli/fmt.c"
#include "cli/http.c"
#include "cli/util.c"

static const struct cl_optdef opts[] = {
    {"key", CL_O_KEY, "FILE", "a key"},
    {"limit", CL_O_LIMIT, "N", "a limit"},
    {"quiet", CL_O_QUIET, NULL, "a flag"},
    {NULL, 0, NULL, NULL},
};

static int
parse(struct cl_args *a, char *err, int n, ...)
{
	char *argv[16];
	va_list ap;
	int i;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	return cl_parse_args(n, argv, opts, 0, a, NULL, err, 128);
}

static void
test_args_mixed_order(void **state)
{
	struct cl_args a;
	char err[128];

	(void)state;
	assert_int_equal(parse(&a, err, 7, "--key", "a.key", "EVENT.json",
	                     "--key=b.key", "--json", "--limit", "5"),
	    0);
	assert_int_equal(a.npos, 1);
	assert_string_equal(a.pos[0], "EVENT.json");
	assert_int_equal(cl_opt_count(&a, CL_O_KEY), 2);
	assert_string_equal(cl_opt_at(&a, CL_O_KEY, 0), "a.key");
	assert_string_equal(cl_opt_at(&a, CL_O_KEY, 1), "b.key");
	assert_null(cl_opt_at(&a, CL_O_KEY, 2));
	/* The last value wins for a single-valued option. */
	assert_string_equal(cl_opt(&a, CL_O_KEY), "b.key");
	assert_string_equal(cl_opt(&a, CL_O_LIMIT), "5");
	/* A global option is accepted by every command. */
	assert_non_null(cl_opt(&a, CL_O_JSON));
	assert_null(cl_opt(&a, CL_O_CSV));
}

static void
test_args_errors(void **state)
{
	struct cl_args a;
	char err[128];

	(void)state;
	assert_int_equal(parse(&a, err, 1, "--nope"), PR_EINVAL);
	assert_string_equal(err, "unknown option '--nope'");
	assert_int_equal(parse(&a, err, 1, "--limit"), PR_EINVAL);
	assert_string_equal(err, "option '--limit' needs a value N");
	assert_int_equal(parse(&a, err, 1, "--quiet=yes"), PR_EINVAL);
	assert_string_equal(err, "option '--quiet' takes no value");
	assert_int_equal(parse(&a, err, 1, "-x"), PR_EINVAL);
	assert_string_equal(err, "unknown option '-x'");
	/* An option of another command is unknown here. */
	assert_int_equal(parse(&a, err, 2, "--vkey", "x"), PR_EINVAL);
}

static void
test_args_dashes(void **state)
{
	struct cl_args a;
	char err[128];

	(void)state;
	/* "--" ends options; "-" is a positional (stdin); -h is --help. */
	assert_int_equal(parse(&a, err, 4, "-h", "-", "--", "--key"), 0);
	assert_non_null(cl_opt(&a, CL_O_HELP));
	assert_int_equal(a.npos, 2);
	assert_string_equal(a.pos[0], "-");
	assert_string_equal(a.pos[1], "--key");
	/* An empty value is a value. */
	assert_int_equal(parse(&a, err, 1, "--limit="), 0);
	assert_string_equal(cl_opt(&a, CL_O_LIMIT), "");
}

static void
test_args_stop_at_command(void **state)
{
	char *argv[] = {
	    "--server", "http://x:1", "--json", "search", "--kind", "award"};
	struct cl_args a;
	char err[128];
	int used;

	(void)state;
	assert_int_equal(
	    cl_parse_args(6, argv, NULL, 1, &a, &used, err, sizeof(err)), 0);
	assert_int_equal(used, 3);
	assert_string_equal(cl_opt(&a, CL_O_SERVER), "http://x:1");
	assert_int_equal(a.npos, 0);
}

static void
test_url_parse(void **state)
{
	struct cl_url u;

	(void)state;
	assert_int_equal(cl_url_parse("http://127.0.0.1:8480", &u), 0);
	assert_false(u.tls);
	assert_string_equal(u.host, "127.0.0.1");
	assert_string_equal(u.port, "8480");
	assert_string_equal(u.prefix, "");
	assert_int_equal(
	    cl_url_parse("https://log.example.kz/procured/", &u), 0);
	assert_true(u.tls);
	assert_string_equal(u.host, "log.example.kz");
	assert_string_equal(u.port, "443");
	assert_string_equal(u.prefix, "/procured");
	assert_int_equal(cl_url_parse("http://[::1]:9/", &u), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.port, "9");
	assert_int_equal(cl_url_parse("http://h", &u), 0);
	assert_string_equal(u.port, "80");

	assert_int_equal(cl_url_parse("ftp://h", &u), PR_EINVAL);
	assert_int_equal(cl_url_parse("http://", &u), PR_EINVAL);
	assert_int_equal(cl_url_parse("http://h:0", &u), PR_EINVAL);
	assert_int_equal(cl_url_parse("http://h:65536", &u), PR_EINVAL);
	assert_int_equal(cl_url_parse("http://h:8x", &u), PR_EINVAL);
	assert_int_equal(cl_url_parse("http://u@h", &u), PR_EINVAL);
	assert_int_equal(cl_url_parse("http://h/?q=1", &u), PR_EINVAL);
	assert_int_equal(cl_url_parse("http://[::1", &u), PR_EINVAL);
}

static void
test_url_escape(void **state)
{
	struct pr_buf b = PR_BUF_INIT;

	(void)state;
	assert_int_equal(cl_url_escape(&b, "ATC:J01CA04 a&b=c/\xd0\x91"), 0);
	assert_string_equal((char *)b.data, "ATC:J01CA04%20a%26b%3Dc%2F%D0%91");
	pr_buf_free(&b);
}

static void
test_exit_status(void **state)
{
	(void)state;
	assert_int_equal(cl_exit_for(0), CL_EXIT_OK);
	assert_int_equal(cl_exit_for(PR_ENET), CL_EXIT_NET);
	assert_int_equal(cl_exit_for(PR_EPROTO), CL_EXIT_NET);
	assert_int_equal(cl_exit_for(PR_ESIG), CL_EXIT_FAIL);
	assert_int_equal(cl_exit_for(PR_EPROOF), CL_EXIT_FAIL);
	assert_int_equal(cl_exit_for(PR_EKEYPERM), CL_EXIT_LOCAL);
	assert_int_equal(cl_exit_for(PR_EIO), CL_EXIT_LOCAL);
}

#define VKEY                                                                   \
	"example.com/"                                                         \
	"foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"

static void
test_config_and_vkey(void **state)
{
	char path[] = "/tmp/procurectl-test-config.XXXXXX", val[256];
	struct pr_vkey v;
	struct cl_args a;
	const char *from;
	FILE *f;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fprintf(f,
	    "# procurectl\n\nserver = http://10.0.0.1:8480\n"
	    "vkey = %s   # the log\nadmin-key = a\nadmin-key = b\n",
	    VKEY);
	fclose(f);
	setenv("PROCURECTL_CONFIG", path, 1);
	unsetenv("PROCURECTL_VKEY");
	assert_int_equal(cl_config_get("server", 0, val, sizeof(val)), 0);
	assert_string_equal(val, "http://10.0.0.1:8480");
	assert_int_equal(cl_config_get("admin-key", 1, val, sizeof(val)), 0);
	assert_string_equal(val, "b");
	assert_int_equal(
	    cl_config_get("admin-key", 2, val, sizeof(val)), PR_ENOTFOUND);
	assert_int_equal(
	    cl_config_get("nothing", 0, val, sizeof(val)), PR_ENOTFOUND);

	/* No --vkey: the configuration file's. */
	memset(&a, 0, sizeof(a));
	assert_int_equal(cl_vkey_find(&a, &v, &from), 0);
	assert_string_equal(v.name, "example.com/foo");
	assert_string_equal(from, path);
	pr_vkey_clear(&v);
	/* The environment overrides the file; --vkey overrides both. */
	setenv("PROCURECTL_VKEY", "bad+00000000+AA==", 1);
	assert_int_equal(cl_vkey_find(&a, &v, &from), PR_EKEY);
	a.opt[0].id = CL_O_VKEY;
	a.opt[0].val = VKEY;
	a.nopt = 1;
	assert_int_equal(cl_vkey_find(&a, &v, &from), 0);
	assert_string_equal(from, "--vkey");
	pr_vkey_clear(&v);
	/* --vkey may name a file holding the key. */
	f = fopen(path, "w");
	fprintf(f, "%s\n", VKEY);
	fclose(f);
	a.opt[0].val = path;
	assert_int_equal(cl_vkey_find(&a, &v, &from), 0);
	assert_int_equal(v.id, 0x530d903a);
	pr_vkey_clear(&v);
	/* A malformed configuration line is an error with its line. */
	f = fopen(path, "w");
	fprintf(f, "vkey\n");
	fclose(f);
	assert_int_equal(
	    cl_config_get("vkey", 0, val, sizeof(val)), PR_ECONFIG);
	assert_non_null(strstr(pr_errmsg(PR_ECONFIG), ":1:"));
	unlink(path);
	unsetenv("PROCURECTL_VKEY");
	unsetenv("PROCURECTL_CONFIG");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_args_mixed_order),
	    cmocka_unit_test(test_args_errors),
	    cmocka_unit_test(test_args_dashes),
	    cmocka_unit_test(test_args_stop_at_command),
	    cmocka_unit_test(test_url_parse),
	    cmocka_unit_test(test_url_escape),
	    cmocka_unit_test(test_exit_status),
	    cmocka_unit_test(test_config_and_vkey),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
