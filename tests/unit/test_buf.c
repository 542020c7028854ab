/* Unit tests: proto/buf.c, proto/enc.c, proto/err.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/buf.h"
#include "proto/enc.h"
#include "proto/err.h"

static void
test_buf_append_grows(void **state)
{
	struct pr_buf b = PR_BUF_INIT;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++)
		assert_int_equal(pr_buf_append(&b, "abc", 3), 0);
	assert_int_equal(b.len, 3000);
	assert_true(b.cap > b.len);
	assert_int_equal(b.data[b.len], '\0');
	assert_memory_equal(b.data + 2997, "abc", 3);
	pr_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal((char *)b.data, "");
	pr_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
}

static void
test_buf_printf(void **state)
{
	struct pr_buf b = PR_BUF_INIT;
	char big[500];

	(void)state;
	assert_int_equal(pr_buf_printf(&b, "%d-%s", 42, "x"), 0);
	assert_string_equal((char *)b.data, "42-x");
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(pr_buf_printf(&b, "[%s]", big), 0);
	assert_int_equal(b.len, 4 + 2 + 499);
	assert_int_equal(b.data[4], '[');
	assert_int_equal(b.data[b.len - 1], ']');
	pr_buf_free(&b);
}

static void
test_buf_be(void **state)
{
	struct pr_buf b = PR_BUF_INIT;
	static const uint8_t want[] = {0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01,
	    0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};

	(void)state;
	assert_int_equal(pr_buf_append_be16(&b, 0x1234), 0);
	assert_int_equal(pr_buf_append_be32(&b, 0xdeadbeef), 0);
	assert_int_equal(pr_buf_append_be64(&b, 0x0102030405060708ULL), 0);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	assert_int_equal(pr_load_be16(b.data), 0x1234);
	assert_int_equal(pr_load_be32(b.data + 2), 0xdeadbeef);
	assert_true(pr_load_be64(b.data + 6) == 0x0102030405060708ULL);
	pr_buf_free_secure(&b);
	assert_null(b.data);
}

static void
test_buf_reserve_overflow(void **state)
{
	struct pr_buf b = PR_BUF_INIT;

	(void)state;
	assert_int_equal(pr_buf_append(&b, "x", 1), 0);
	assert_int_equal(pr_buf_reserve(&b, SIZE_MAX), PR_ENOMEM);
	assert_int_equal(b.len, 1);
	assert_string_equal((char *)b.data, "x");
	pr_buf_free(&b);
}

static void
test_hex(void **state)
{
	static const uint8_t in[] = {0x00, 0x7f, 0xab, 0xff};
	uint8_t out[4];
	char s[9];

	(void)state;
	pr_hex_encode(in, sizeof(in), s);
	assert_string_equal(s, "007fabff");
	assert_int_equal(pr_hex_decode("007FabfF", 8, out, 4), 0);
	assert_memory_equal(out, in, 4);
	assert_int_equal(pr_hex_decode("007fabf", 7, out, 4), PR_EFORMAT);
	assert_int_equal(pr_hex_decode("007fabfg", 8, out, 4), PR_EFORMAT);
	assert_int_equal(pr_hex_decode("007fab", 6, out, 4), PR_EFORMAT);
}

/* RFC 4648 section 10 test vectors. */
static void
test_b64_rfc4648(void **state)
{
	static const char *vec[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="},
	    {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
	    {"foobar", "Zm9vYmFy"}};
	struct pr_buf b = PR_BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		pr_buf_reset(&b);
		assert_int_equal(pr_b64_encode(&b, (const uint8_t *)vec[i][0],
		                     strlen(vec[i][0])),
		    0);
		assert_int_equal(b.len, strlen(vec[i][1]));
		if (b.len)
			assert_string_equal((char *)b.data, vec[i][1]);
		assert_int_equal(pr_b64_len(strlen(vec[i][0])), b.len);
		pr_buf_reset(&b);
		assert_int_equal(
		    pr_b64_decode(&b, vec[i][1], strlen(vec[i][1]), PR_B64_STD),
		    0);
		assert_int_equal(b.len, strlen(vec[i][0]));
		assert_memory_equal(b.data, vec[i][0], b.len);
	}
	pr_buf_free(&b);
}

static void
test_b64_strict(void **state)
{
	static const char *bad[] = {"Zg=", "Zg", "Z===", "Zh==", "Zm9v\n",
	    "Zm 9v", "Zm9v====", "=Zm9", "Zm-v", "Z"};
	struct pr_buf b = PR_BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    pr_b64_decode(&b, bad[i], strlen(bad[i]), PR_B64_STD),
		    PR_EFORMAT);
		assert_int_equal(b.len, 0);
	}
	/* Unpadded only when asked for. */
	assert_int_equal(pr_b64_decode(&b, "Zg", 2, PR_B64_NOPAD), 0);
	assert_memory_equal(b.data, "f", 1);
	pr_buf_free(&b);
}

static void
test_b64_url(void **state)
{
	static const uint8_t raw[] = {0xfb, 0xff, 0xbf};
	struct pr_buf b = PR_BUF_INIT;

	(void)state;
	assert_int_equal(pr_b64_encode(&b, raw, 3), 0);
	assert_string_equal((char *)b.data, "+/+/");
	pr_buf_reset(&b);
	assert_int_equal(pr_b64_decode(&b, "-_-_", 4, PR_B64_URL), 0);
	assert_memory_equal(b.data, raw, 3);
	pr_buf_reset(&b);
	assert_int_equal(pr_b64_decode(&b, "-_-_", 4, PR_B64_ANY), 0);
	assert_memory_equal(b.data, raw, 3);
	pr_buf_reset(&b);
	assert_int_equal(pr_b64_decode(&b, "+/+/", 4, PR_B64_ANY), 0);
	assert_memory_equal(b.data, raw, 3);
	pr_buf_reset(&b);
	assert_int_equal(pr_b64_decode(&b, "-/+_", 4, PR_B64_ANY), PR_EFORMAT);
	assert_int_equal(pr_b64_decode(&b, "-_-_", 4, PR_B64_STD), PR_EFORMAT);
	pr_buf_free(&b);
}

static void
test_err(void **state)
{
	(void)state;
	assert_string_equal(pr_strerror(0), "success");
	assert_string_equal(pr_strerror(PR_ENOMEM), "out of memory");
	assert_string_equal(pr_errname(PR_EKEYPERM), "EKEYPERM");
	assert_string_equal(pr_errname(0), "ok");
	assert_string_equal(pr_errname(-12345678), "unknown");
	assert_string_equal(pr_strerror(-12345678), "unknown error");
	/* Negative errno values fall through to strerror(). */
	assert_string_equal(pr_strerror(-2), "No such file or directory");
	/* Our codes never collide with errno's range. */
	assert_true(PR_ENOMEM < -4096);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_append_grows),
	    cmocka_unit_test(test_buf_printf),
	    cmocka_unit_test(test_buf_be),
	    cmocka_unit_test(test_buf_reserve_overflow),
	    cmocka_unit_test(test_hex),
	    cmocka_unit_test(test_b64_rfc4648),
	    cmocka_unit_test(test_b64_strict),
	    cmocka_unit_test(test_b64_url),
	    cmocka_unit_test(test_err),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
