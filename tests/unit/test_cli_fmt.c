/*
 * Unit tests: cli/fmt.c: display widths of Cyrillic and Kazakh text,
 * sanitizing, truncation, digit grouping, RFC 4180 CSV and tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/fmt.c"

/* Kazakh: "Қазақстан Республикасы" with the letters Қ (U+049A), ақ. */
#define KAZAKH                                                                 \
	"\xd2\x9a\xd0\xb0\xd0\xb7\xd0\xb0\xd2\x9b\xd1\x81\xd1\x82\xd0\xb0\xd0" \
	"\xbd"
/* Russian: "Больница" (8 letters, 16 bytes). */
#define RUSSIAN                                                                \
	"\xd0\x91\xd0\xbe\xd0\xbb\xd1\x8c\xd0\xbd\xd0\xb8\xd1\x86\xd0\xb0"

static struct pr_buf rendered;

static char *
render(const struct cl_table *t, enum cl_mode mode)
{
	pr_buf_free(&rendered);
	assert_int_equal(cl_table_render(t, mode, &rendered), 0);
	return (char *)rendered.data;
}

static void
test_width_cyrillic(void **state)
{
	(void)state;
	assert_int_equal(cl_width("abc", 3), 3);
	assert_int_equal(strlen(RUSSIAN), 16);
	assert_int_equal(cl_width(RUSSIAN, strlen(RUSSIAN)), 8);
	/* Қазақстан: 9 letters, two of them Kazakh-specific. */
	assert_int_equal(cl_width(KAZAKH, strlen(KAZAKH)), 9);
	/* Other Kazakh letters: Ә Ғ Ң Ө Ұ Ү Һ І, one column each. */
	assert_int_equal(cl_width("\xd3\x98\xd2\x92\xd2\xa2\xd3\xa8\xd2\xb0"
	                          "\xd2\xae\xd2\xba\xd0\x86",
	                     16),
	    8);
	/* Guillemets and the numero sign used in names. */
	assert_int_equal(cl_width("\xc2\xab\xe2\x84\x96\xc2\xbb", 7), 3);
}

static void
test_width_special(void **state)
{
	(void)state;
	/* A combining acute accent adds no column. */
	assert_int_equal(cl_width("e\xcc\x81", 3), 1);
	/* CJK is two columns a character. */
	assert_int_equal(cl_width("\xe4\xb8\xad\xe6\x96\x87", 6), 4);
	/* An invalid byte and a control character are shown as one '?'. */
	assert_int_equal(cl_width("\xff", 1), 1);
	assert_int_equal(cl_width("\x1b[1m", 4), 4);
	assert_int_equal(cl_width("", 0), 0);
}

static void
test_sanitize(void **state)
{
	struct pr_buf b = PR_BUF_INIT;

	(void)state;
	/* An escape sequence cannot reach the terminal. */
	assert_int_equal(cl_sanitize(&b, "a\x1b[2Jb\x07", 7), 0);
	assert_string_equal((char *)b.data, "a?[2Jb?");
	pr_buf_reset(&b);
	/* C1 control U+009B (CSI) and a lone continuation byte. */
	assert_int_equal(cl_sanitize(&b, "x\xc2\x9by\x80z", 6), 0);
	assert_string_equal((char *)b.data, "x?y?z");
	pr_buf_reset(&b);
	assert_int_equal(cl_sanitize(&b, RUSSIAN, strlen(RUSSIAN)), 0);
	assert_string_equal((char *)b.data, RUSSIAN);
	pr_buf_free(&b);
}

static void
test_truncate(void **state)
{
	struct pr_buf b = PR_BUF_INIT;

	(void)state;
	assert_int_equal(cl_truncate(&b, RUSSIAN, strlen(RUSSIAN), 8), 0);
	assert_string_equal((char *)b.data, RUSSIAN);
	pr_buf_reset(&b);
	/* Cut to 5 columns: 4 letters (8 bytes) and the ellipsis. */
	assert_int_equal(cl_truncate(&b, RUSSIAN, strlen(RUSSIAN), 5), 0);
	assert_int_equal(b.len, 8 + 3);
	assert_memory_equal(b.data, RUSSIAN, 8);
	assert_string_equal((char *)b.data + 8, "\xe2\x80\xa6");
	assert_int_equal(cl_width((char *)b.data, b.len), 5);
	pr_buf_reset(&b);
	/* A wide character that does not fit is not split. */
	assert_int_equal(cl_truncate(&b, "\xe4\xb8\xad\xe6\x96\x87", 6, 3), 0);
	assert_string_equal((char *)b.data, "\xe4\xb8\xad\xe2\x80\xa6");
	pr_buf_free(&b);
}

static void
test_group_digits(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
	    {"0", "0"},
	    {"999", "999"},
	    {"1000", "1,000"},
	    {"1234567.50", "1,234,567.50"},
	    {"123456", "123,456"},
	    {"-1234", "-1,234"},
	    {"9223372036854775807", "9,223,372,036,854,775,807"},
	    {"12.3456", "12.3456"},
	    {"abc", "abc"},
	    {"1.", "1."},
	    {"1e5", "1e5"},
	    {"", ""},
	};
	struct pr_buf b = PR_BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		pr_buf_reset(&b);
		assert_int_equal(
		    cl_group_digits(&b, v[i].in, strlen(v[i].in)), 0);
		assert_string_equal(b.data ? (char *)b.data : "", v[i].out);
	}
	pr_buf_reset(&b);
	assert_int_equal(cl_fmt_amount(&b, "1136100000.00", "KZT"), 0);
	assert_string_equal((char *)b.data, "1,136,100,000.00 KZT");
	pr_buf_free(&b);
}

static void
test_csv_field(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
	    {"plain", "plain"},
	    {"a,b", "\"a,b\""},
	    {"say \"hi\"", "\"say \"\"hi\"\"\""},
	    {"two\nlines", "\"two\nlines\""},
	    {"cr\r", "\"cr\r\""},
	    {" lead", "\" lead\""},
	    {"", ""},
	    {RUSSIAN, RUSSIAN},
	};
	struct pr_buf b = PR_BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		pr_buf_reset(&b);
		assert_int_equal(cl_csv_field(&b, v[i].in, strlen(v[i].in)), 0);
		assert_string_equal(b.data ? (char *)b.data : "", v[i].out);
	}
	pr_buf_free(&b);
}

static const struct cl_col cols[] = {
    {"party", "PARTY", 0, -1, 0},
    {"name", "NAME", 0, -1, 0},
    {"amount", "AMOUNT", CL_COL_NUMBER, 3, 0},
    {"currency", "CUR", CL_COL_NOTEXT, -1, 0},
};

static void
test_table_text_aligns_cyrillic(void **state)
{
	const char *r1[] = {"KZ-BIN-090640001233", RUSSIAN, "1234.50", "KZT"};
	const char *r2[] = {"KZ-BIN-1",
	    KAZAKH " \xc2\xab\xe2\x84\x96"
	           "1\xc2\xbb",
	    "5.00", "KZT"};
	const char *r3[] = {"X", NULL, NULL, NULL};
	struct cl_table t;
	char *s, *line, *save;
	size_t amount_col[4], n = 0;

	(void)state;
	cl_table_init(&t, cols, 4);
	assert_int_equal(cl_table_add(&t, r1), 0);
	assert_int_equal(cl_table_add(&t, r2), 0);
	assert_int_equal(cl_table_add(&t, r3), 0);
	s = render(&t, CL_TEXT);
	/* The currency column is not shown; its code follows the amount. */
	assert_null(strstr(s, "CUR"));
	assert_non_null(strstr(s, "1,234.50 KZT"));
	assert_non_null(strstr(s, "5.00 KZT"));
	/* Every line ends its amount at the same display column. */
	for (line = strtok_r(s, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		assert_true(n < 4);
		assert_true(line[strlen(line) - 1] != ' ');
		amount_col[n++] = cl_width(line, strlen(line));
	}
	assert_int_equal(n, 4);
	assert_int_equal(amount_col[0], amount_col[1]);
	assert_int_equal(amount_col[1], amount_col[2]);
	/* The last row has no amount and no trailing blanks. */
	assert_int_equal(amount_col[3], 1);
	cl_table_free(&t);
}

static void
test_table_csv(void **state)
{
	const char *r1[] = {"KZ-BIN-1", "A, \"B\"", "1234.50", "KZT"};
	const char *r2[] = {"KZ-BIN-2", NULL, "5", "USD"};
	struct cl_table t;

	(void)state;
	cl_table_init(&t, cols, 4);
	assert_int_equal(cl_table_add(&t, r1), 0);
	assert_int_equal(cl_table_add(&t, r2), 0);
	/* Keys as the header, raw amounts, CRLF line ends. */
	assert_string_equal(render(&t, CL_CSV),
	    "party,name,amount,currency\r\n"
	    "KZ-BIN-1,\"A, \"\"B\"\"\",1234.50,KZT\r\n"
	    "KZ-BIN-2,,5,USD\r\n");
	cl_table_free(&t);
}

static void
test_table_vertical_and_truncation(void **state)
{
	static const struct cl_col vcols[] = {
	    {"index", "index", 0, -1, 0},
	    {"leaf_hash", "leaf hash", 0, -1, 0},
	    {"name", "name", 0, -1, 4},
	};
	const char *row[] = {"41", "ab", RUSSIAN};
	struct cl_table t;

	(void)state;
	cl_table_init(&t, vcols, 3);
	t.vertical = 1;
	assert_int_equal(cl_table_add(&t, row), 0);
	assert_string_equal(render(&t, CL_TEXT),
	    "index      41\n"
	    "leaf hash  ab\n"
	    "name       \xd0\x91\xd0\xbe\xd0\xbb\xe2\x80\xa6\n");
	cl_table_free(&t);
}

static void
test_table_sanitizes_cells(void **state)
{
	const char *row[] = {"\x1b]0;owned\x07", "n", "1", "KZT"};
	struct cl_table t;
	char *s;

	(void)state;
	cl_table_init(&t, cols, 4);
	assert_int_equal(cl_table_add(&t, row), 0);
	s = render(&t, CL_TEXT);
	assert_null(strchr(s, '\x1b'));
	assert_null(strchr(s, '\x07'));
	assert_non_null(strstr(s, "?]0;owned?"));
	cl_table_free(&t);
}

static void
test_table_optional_column(void **state)
{
	static const struct cl_col ocols[] = {
	    {"key", "KEY", 0, -1, 0},
	    {"name", "NAME", CL_COL_OPTIONAL, -1, 0},
	};
	const char *r1[] = {"a", NULL}, *r2[] = {"b", ""},
	           *r3[] = {"c", RUSSIAN};
	struct cl_table t;

	(void)state;
	cl_table_init(&t, ocols, 2);
	assert_int_equal(cl_table_add(&t, r1), 0);
	assert_int_equal(cl_table_add(&t, r2), 0);
	/* Every name empty: the column is not shown, but is in CSV. */
	assert_string_equal(render(&t, CL_TEXT), "KEY\na\nb\n");
	assert_string_equal(render(&t, CL_CSV), "key,name\r\na,\r\nb,\r\n");
	assert_int_equal(cl_table_add(&t, r3), 0);
	assert_string_equal(
	    render(&t, CL_TEXT), "KEY  NAME\na\nb\nc    " RUSSIAN "\n");
	cl_table_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_width_cyrillic),
	    cmocka_unit_test(test_width_special),
	    cmocka_unit_test(test_sanitize),
	    cmocka_unit_test(test_truncate),
	    cmocka_unit_test(test_group_digits),
	    cmocka_unit_test(test_csv_field),
	    cmocka_unit_test(test_table_text_aligns_cyrillic),
	    cmocka_unit_test(test_table_csv),
	    cmocka_unit_test(test_table_vertical_and_truncation),
	    cmocka_unit_test(test_table_sanitizes_cells),
	    cmocka_unit_test(test_table_optional_column),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	pr_buf_free(&rendered);
	return rc;
}
