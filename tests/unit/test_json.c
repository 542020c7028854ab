/*
 * Unit tests: proto/json.c, the strict JSON parser events are read with.
 * Known answers for every value type and escape, the limits (integer
 * range, depth, duplicate keys in small and large objects) and the
 * position an error names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "proto/buf.h"
#include "proto/json.h"

struct block {
	struct block *next;
	max_align_t data[];
};

static struct block *blocks;

static void *
alloc(void *ctx, size_t size)
{
	struct block *b;

	(void)ctx;
	if ((b = malloc(sizeof(*b) + size)) == NULL)
		return NULL;
	b->next = blocks;
	blocks = b;
	return b->data;
}

static void *
fail_alloc(void *ctx, size_t size)
{
	size_t *left = ctx;

	if (*left == 0)
		return NULL;
	(*left)--;
	return alloc(NULL, size);
}

static int
teardown(void **state)
{
	struct block *b;

	(void)state;
	while ((b = blocks) != NULL) {
		blocks = b->next;
		free(b);
	}
	return 0;
}

static struct pr_json *
parse(const char *s, struct pr_json_error *err)
{
	return pr_json_parse(s, strlen(s), 16, alloc, NULL, err);
}

static void
refused(const char *s, enum pr_json_errcode code, const char *text)
{
	struct pr_json_error err;

	if (parse(s, &err) != NULL)
		fail_msg("accepted: %s", s);
	assert_int_equal(err.code, code);
	if (strstr(err.text, text) == NULL)
		fail_msg("%s: error \"%s\" lacks \"%s\"", s, err.text, text);
}

static void
test_values(void **state)
{
	struct pr_json_error err;
	struct pr_json *r, *v, *a;
	const char *key;
	size_t i, n = 0;

	(void)state;
	r = parse(" {\"s\": \"x\", \"i\": -42, \"r\": 2.5e1, \"t\": true, "
	          "\"f\": false, \"z\": null, \"a\": [1, [], {}], \"o\": "
	          "{\"k\": \"\"}} \n",
	    &err);
	assert_non_null(r);
	assert_true(pr_json_is_object(r));
	assert_int_equal(r->n, 8);
	assert_string_equal(pr_json_str(pr_json_get(r, "s")), "x");
	assert_int_equal(pr_json_len(pr_json_get(r, "s")), 1);
	assert_int_equal(pr_json_int(pr_json_get(r, "i")), -42);
	v = pr_json_get(r, "r");
	assert_true(pr_json_is_real(v) && pr_json_is_number(v));
	assert_true(v->u.d == 25.0);
	assert_int_equal(pr_json_type(pr_json_get(r, "t")), PR_JSON_TRUE);
	assert_int_equal(pr_json_type(pr_json_get(r, "f")), PR_JSON_FALSE);
	assert_int_equal(pr_json_type(pr_json_get(r, "z")), PR_JSON_NULL);
	a = pr_json_get(r, "a");
	assert_int_equal(pr_json_size(a), 3);
	assert_int_equal(pr_json_int(&a->u.v[0]), 1);
	assert_true(pr_json_is_array(&a->u.v[1]) && a->u.v[1].n == 0);
	assert_true(pr_json_is_object(&a->u.v[2]) && a->u.v[2].n == 0);
	assert_string_equal(
	    pr_json_str(pr_json_get(pr_json_get(r, "o"), "k")), "");
	/* Accessors of the wrong type and NULL are harmless. */
	assert_null(pr_json_get(r, "missing"));
	assert_null(pr_json_get(a, "s"));
	assert_null(pr_json_get(NULL, "s"));
	assert_null(pr_json_str(pr_json_get(r, "i")));
	assert_int_equal(pr_json_int(pr_json_get(r, "s")), 0);
	assert_int_equal(pr_json_size(r), 0);
	/* Members come in document order. */
	pr_json_object_foreach(r, i, key, v)
	{
		assert_ptr_equal(pr_json_get(r, key), v);
		n++;
	}
	assert_int_equal(n, 8);
	assert_string_equal(r->u.v[0].key, "s");
	assert_string_equal(r->u.v[7].key, "o");
}

static void
test_strings(void **state)
{
	struct pr_json_error err;
	struct pr_json *r;

	(void)state;
	r = parse("[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"\\u00e9\\u20AC\", "
	          "\"\\ud83d\\ude00\", \"\xd0\x90\xd1\x81\xd1\x82\xd0\xb0\xd0"
	          "\xbd\xd0\xb0\"]",
	    &err);
	assert_non_null(r);
	assert_string_equal(pr_json_str(&r->u.v[0]), "a\"b\\c/d\b\f\n\r\t");
	assert_string_equal(pr_json_str(&r->u.v[1]), "\xc3\xa9\xe2\x82\xac");
	assert_string_equal(pr_json_str(&r->u.v[2]), "\xf0\x9f\x98\x80");
	assert_int_equal(pr_json_len(&r->u.v[2]), 4);
	assert_string_equal(pr_json_str(&r->u.v[3]), "Астана");

	refused("[\"\\u0000\"]", PR_JSON_ESYNTAX, "\\u0000");
	refused("[\"\\ud800\"]", PR_JSON_ESYNTAX, "high surrogate");
	refused("[\"\\ud800\\u0041\"]", PR_JSON_ESYNTAX, "high surrogate");
	refused("[\"\\udc00\"]", PR_JSON_ESYNTAX, "low surrogate");
	refused("[\"\\u12G4\"]", PR_JSON_ESYNTAX, "\\u escape");
	refused("[\"\\x\"]", PR_JSON_ESYNTAX, "invalid escape");
	refused("[\"a\tb\"]", PR_JSON_ESYNTAX, "control character 0x09");
	refused("[\"\xc3\x28\"]", PR_JSON_ESYNTAX, "UTF-8");
	refused("[\"\xe0\x80\x80\"]", PR_JSON_ESYNTAX, "UTF-8"); /* overlong */
	refused("[\"\xed\xa0\x80\"]", PR_JSON_ESYNTAX, "UTF-8"); /* D800 */
	refused("[\"abc", PR_JSON_ESYNTAX, "unterminated");
}

/*
 * Long strings are skipped through many bytes at a time: a byte the scan
 * must see ('"', '\\', a control character, UTF-8) is found at every
 * offset of strings of every length around the word sizes, and the
 * string ends where the text does not.
 */
static void
test_string_runs(void **state)
{
	static const struct {
		const char *put; /* at offset k of a run of 'a' */
		const char *want; /* decoded, NULL: refused */
	} cases[] = {
	    {"\"", NULL}, /* the string ends early: "]" expected */
	    {"\\n", "\n"},
	    {"\\\"", "\""},
	    {"\x01", NULL},
	    {"\x1f", NULL},
	    {"\x7f", "\x7f"},
	    {"\xc3\xa9", "\xc3\xa9"},
	    {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
	    {"\xc3", NULL},
	    {"\xff", NULL},
	};
	char text[128], want[128], *exact;
	struct pr_json_error err;
	struct pr_json *r;
	size_t c, len, k, n;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		for (len = 1; len < 40; len++)
			for (k = 0; k < len; k++) {
				n = (size_t)snprintf(text, sizeof(text),
				    "[\"%.*s%s%.*s\"]", (int)k,
				    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				    cases[c].put, (int)(len - k - 1),
				    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
				r = pr_json_parse(
				    text, n, 16, alloc, NULL, &err);
				if (cases[c].want == NULL) {
					if (r != NULL)
						fail_msg("accepted: %s", text);
					continue;
				}
				if (r == NULL)
					fail_msg("%s: %s", text, err.text);
				snprintf(want, sizeof(want), "%.*s%s%.*s",
				    (int)k,
				    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				    cases[c].want, (int)(len - k - 1),
				    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
				assert_string_equal(
				    pr_json_str(&r->u.v[0]), want);
			}
	/* Unterminated at every length, in a block of just its size (for
	 * the sanitizers): never read past the end. */
	for (len = 0; len < 40; len++) {
		n = (size_t)snprintf(text, sizeof(text), "[\"%.*s", (int)len,
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
		assert_non_null(exact = malloc(n));
		memcpy(exact, text, n);
		assert_null(pr_json_parse(exact, n, 16, alloc, NULL, &err));
		assert_non_null(strstr(err.text, "unterminated"));
		free(exact);
	}
}

static void
test_numbers(void **state)
{
	struct pr_json_error err;
	struct pr_json *r;

	(void)state;
	r = parse("[9223372036854775807, -9223372036854775808, 0, -0, 1e-400, "
	          "0.5, -1E+2]",
	    &err);
	assert_non_null(r);
	assert_true(r->u.v[0].u.i == INT64_MAX);
	assert_true(r->u.v[1].u.i == INT64_MIN);
	assert_int_equal(pr_json_type(&r->u.v[3]), PR_JSON_INTEGER);
	assert_true(pr_json_is_real(&r->u.v[4]) && r->u.v[4].u.d == 0.0);
	assert_true(r->u.v[6].u.d == -100.0);
	refused("[9223372036854775808]", PR_JSON_ESYNTAX, "too big integer");
	refused("[-9223372036854775809]", PR_JSON_ESYNTAX,
	    "too big negative integer");
	refused("[1e400]", PR_JSON_ESYNTAX, "overflow");
	refused("[01]", PR_JSON_ESYNTAX, "invalid number");
	refused("[1.]", PR_JSON_ESYNTAX, "invalid number");
	refused("[.5]", PR_JSON_ESYNTAX, "invalid token");
	refused("[+1]", PR_JSON_ESYNTAX, "invalid token");
	refused("[1e]", PR_JSON_ESYNTAX, "invalid number");
	refused("[-]", PR_JSON_ESYNTAX, "invalid number");
	refused("[NaN]", PR_JSON_ESYNTAX, "invalid token");
}

static void
test_structure(void **state)
{
	struct pr_json_error err;
	char deep[64], big[4096];
	size_t i, n;

	(void)state;
	refused("\"x\"", PR_JSON_ESYNTAX, "'[' or '{' expected");
	refused("", PR_JSON_ESYNTAX, "'[' or '{' expected");
	refused("{} {}", PR_JSON_ESYNTAX, "end of file expected");
	refused("{\"a\":1,}", PR_JSON_ESYNTAX, "string or '}' expected");
	refused("[1,]", PR_JSON_ESYNTAX, "invalid token");
	refused("[1 2]", PR_JSON_ESYNTAX, "',' or ']' expected");
	refused("{\"a\" 1}", PR_JSON_ESYNTAX, "':' expected");
	refused("[tru]", PR_JSON_ESYNTAX, "invalid token");
	refused("{\"a\":1,\"b\":2,\"a\":3}", PR_JSON_EDUPLICATE, "\"a\"");
	/* A NUL byte is not whitespace. */
	assert_null(pr_json_parse("[1]\0", 4, 16, alloc, NULL, &err));
	assert_string_equal(err.text, "end of file expected");
	assert_null(pr_json_parse("[1,\0 2]", 7, 16, alloc, NULL, &err));
	assert_int_equal(err.code, PR_JSON_ESYNTAX);

	/* Depth: 16 levels pass, 17 do not. */
	memset(deep, '[', 16);
	memset(deep + 16, ']', 16);
	deep[32] = '\0';
	assert_non_null(parse(deep, &err));
	memset(deep, '[', 17);
	memset(deep + 17, ']', 17);
	deep[34] = '\0';
	refused(deep, PR_JSON_EDEPTH, "16 deep");

	/* A large object: duplicates are found by sorting. */
	n = (size_t)snprintf(big, sizeof(big), "{");
	for (i = 0; i < 200; i++)
		n += (size_t)snprintf(
		    big + n, sizeof(big) - n, "\"k%zu\":%zu,", i, i);
	snprintf(big + n - 1, sizeof(big) - n + 1, "}");
	assert_non_null(parse(big, &err));
	big[n - 1] = ',';
	snprintf(big + n, sizeof(big) - n, "\"k123\":0}");
	refused(big, PR_JSON_EDUPLICATE, "\"k123\"");
}

static void
test_error_position(void **state)
{
	struct pr_json_error err;

	(void)state;
	assert_null(parse("{\n  \"a\": 1,\n  \"b\": x\n}", &err));
	assert_int_equal(err.line, 3);
	assert_int_equal(err.column, 8);
	assert_null(parse("[1, 2", &err));
	assert_int_equal(err.line, 1);
	assert_int_equal(err.column, 6);
}

static void
test_out_of_memory(void **state)
{
	const char *s = "{\"a\": [1, 2, {\"b\": \"c\"}], \"d\": \"e\"}";
	struct pr_json_error err;
	size_t left, k;

	(void)state;
	/* Every allocation that fails is reported as such, never a crash
	 * or a partial tree. */
	for (k = 0;; k++) {
		left = k;
		if (pr_json_parse(s, strlen(s), 16, fail_alloc, &left, &err) !=
		    NULL)
			break;
		assert_int_equal(err.code, PR_JSON_ENOMEM);
	}
	assert_true(k > 3);
}

/* pr_json_quote: known answers, the same text as jansson's compact
 * output for every byte value, and a round trip through the parser. */
static void
test_quote(void **state)
{
	static const struct {
		const char *in, *out;
	} known[] = {
	    {"", "\"\""},
	    {"plain", "\"plain\""},
	    {"a\"b\\c", "\"a\\\"b\\\\c\""},
	    {"\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\""},
	    {"\x01\x1f", "\"\\u0001\\u001F\""},
	    {"/\x7f", "\"/\x7f\""},
	    {"\xd0\x90\xe2\x80\xa8", "\"\xd0\x90\xe2\x80\xa8\""},
	};
	struct pr_buf b = PR_BUF_INIT;
	char in[4], text[64], *want;
	struct pr_json *v;
	json_t *j;
	size_t i;
	int c;

	(void)state;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		pr_buf_reset(&b);
		assert_int_equal(pr_json_quote(&b, known[i].in), 0);
		assert_int_equal(b.len, strlen(known[i].out));
		assert_memory_equal(b.data, known[i].out, b.len);
	}
	for (c = 1; c < 0x80; c++) {
		snprintf(in, sizeof(in), "x%cy", c);
		pr_buf_reset(&b);
		assert_int_equal(pr_json_quote(&b, in), 0);
		assert_non_null(j = json_string(in));
		assert_non_null(
		    want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY));
		assert_int_equal(b.len, strlen(want));
		assert_memory_equal(b.data, want, b.len);
		free(want);
		json_decref(j);
		/* Parsed back, as an array member: the same string. */
		snprintf(text, sizeof(text), "[%s]", (char *)b.data);
		v = pr_json_parse(text, strlen(text), 4, alloc, NULL, NULL);
		assert_non_null(v);
		assert_string_equal(pr_json_str(&v->u.v[0]), in);
	}
	pr_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_values, teardown),
	    cmocka_unit_test_teardown(test_strings, teardown),
	    cmocka_unit_test_teardown(test_string_runs, teardown),
	    cmocka_unit_test_teardown(test_numbers, teardown),
	    cmocka_unit_test_teardown(test_structure, teardown),
	    cmocka_unit_test_teardown(test_error_position, teardown),
	    cmocka_unit_test_teardown(test_out_of_memory, teardown),
	    cmocka_unit_test_teardown(test_quote, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
