/* Unit tests: proto/entry.c (the log entry layout). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/buf.h"
#include "proto/dsse.h"
#include "proto/enc.h"
#include "proto/entry.h"
#include "proto/err.h"
#include "proto/key.h"
#include "proto/merkle.h"

/*
 * The example of docs/PROTOCOL.md, computed independently with Python
 * (struct, hashlib, python3-cryptography): payload {"kind":"plan"} signed
 * by the RFC 8032 TEST 1 key, logged at 2026-03-01T09:00:00.123Z.
 */
static const char *t1_seed =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const uint64_t ex_time = 1772355600123ULL;
static const char *ex_entry =
    "010000019ca8a03efb002e6170706c69636174696f6e2f766e642e70726f637572"
    "65642e6576656e742b6a736f6e3b2076657273696f6e3d31000f7b226b696e6422"
    "3a22706c616e227d01403231666533316466613135346132363136323662663835"
    "3430343666643232373162376265643462366162653435616135383837376566343"
    "7663937323162390040f94527b8463f1746c297493a89a606e9fe44cab96ce81918"
    "38e3864c5a71d37469721139fe1dc547b5a5fbc72f5011052b51068743db7099efe"
    "47c3c9877380d";
static const char *ex_envhash =
    "963c2b7459aaad13fdd683f8f44ebe87be6660908d3ec2687669097ea74daa90";
static const char *ex_leaf =
    "376d26d5cc906fd2a94c6a2ff17496619d15f7ad8b52ebb8e7eae259044cb936";

static struct pr_key *
t1_key(void)
{
	uint8_t seed[32];
	struct pr_key *k;

	assert_int_equal(pr_hex_decode(t1_seed, 64, seed, 32), 0);
	assert_int_equal(pr_key_from_seed(seed, &k), 0);
	return k;
}

static struct pr_dsse *
example_envelope(struct pr_key *k)
{
	struct pr_dsse *e;

	assert_int_equal(pr_dsse_new(PR_DSSE_PAYLOAD_TYPE,
	                     (const uint8_t *)"{\"kind\":\"plan\"}", 15, &e),
	    0);
	assert_int_equal(pr_dsse_sign(e, k), 0);
	return e;
}

static void
hex_of(const uint8_t *p, size_t len, char *out)
{
	pr_hex_encode(p, len, out);
}

static void
test_known_answer(void **state)
{
	struct pr_key *k = t1_key();
	struct pr_dsse *e = example_envelope(k);
	struct pr_buf b = PR_BUF_INIT;
	pr_hash h, h2;
	char hex[600];

	(void)state;
	assert_int_equal(pr_entry_encode(e, ex_time, &b), 0);
	assert_int_equal(b.len, 206);
	hex_of(b.data, b.len, hex);
	assert_string_equal(hex, ex_entry);
	assert_int_equal(pr_entry_envelope_hash(b.data, b.len, h), 0);
	hex_of(h, 32, hex);
	assert_string_equal(hex, ex_envhash);
	assert_int_equal(pr_entry_dsse_hash(e, h2), 0);
	assert_memory_equal(h, h2, 32);
	pr_merkle_leaf_hash(b.data, b.len, h);
	hex_of(h, 32, hex);
	assert_string_equal(hex, ex_leaf);
	pr_buf_free(&b);
	pr_dsse_free(e);
	pr_key_free(k);
}

static void
test_decode_and_verify(void **state)
{
	struct pr_key *k = t1_key(), *other;
	struct pr_dsse *e = example_envelope(k), *d;
	struct pr_buf b = PR_BUF_INIT, b2 = PR_BUF_INIT;
	struct pr_entry ent;
	uint64_t t = 0;
	pr_hash h1, h2;

	(void)state;
	assert_int_equal(pr_entry_encode(e, ex_time, &b), 0);
	assert_int_equal(pr_entry_parse(b.data, b.len, &ent), 0);
	assert_true(ent.log_time == ex_time);
	assert_int_equal(ent.payload_type_len, strlen(PR_DSSE_PAYLOAD_TYPE));
	assert_int_equal(ent.nsigs, 1);
	assert_int_equal(ent.sigs[0].keyidlen, 64);
	assert_ptr_equal(ent.envelope, b.data + 9);
	assert_int_equal(pr_entry_decode(b.data, b.len, &t, &d), 0);
	assert_true(t == ex_time);
	assert_string_equal(d->payload_type, PR_DSSE_PAYLOAD_TYPE);
	assert_string_equal(d->sigs[0].keyid, pr_key_keyid(k));
	/* Signatures verify from the stored entry, not with another key. */
	assert_int_equal(pr_dsse_verify(d, 0, k), 0);
	assert_int_equal(pr_key_generate(&other), 0);
	assert_int_equal(pr_dsse_verify(d, 0, other), PR_ESIG);
	/* Re-encoding gives the same bytes. */
	assert_int_equal(pr_entry_encode(d, t, &b2), 0);
	assert_int_equal(b2.len, b.len);
	assert_memory_equal(b2.data, b.data, b.len);
	/* The envelope hash ignores the log time; the leaf hash does not. */
	pr_buf_reset(&b2);
	assert_int_equal(pr_entry_encode(d, t + 1, &b2), 0);
	assert_int_equal(pr_entry_envelope_hash(b.data, b.len, h1), 0);
	assert_int_equal(pr_entry_envelope_hash(b2.data, b2.len, h2), 0);
	assert_memory_equal(h1, h2, 32);
	assert_memory_not_equal(b.data, b2.data, b.len);
	/* An entry encoded before its time, then given it: the same bytes. */
	pr_entry_set_time(b2.data, t);
	assert_memory_equal(b.data, b2.data, b.len);
	assert_int_equal(pr_entry_dsse_hash(d, h2), 0);
	assert_memory_equal(h1, h2, 32);
	/* Tampering with the stored payload breaks the signature. */
	b.data[9 + 2 + 46 + 2 + 3] ^= 1;
	pr_dsse_free(d);
	assert_int_equal(pr_entry_decode(b.data, b.len, NULL, &d), 0);
	assert_int_equal(pr_dsse_verify(d, 0, k), PR_ESIG);
	assert_int_equal(pr_entry_envelope_hash(b.data, 8, h1), PR_ETRUNC);
	pr_dsse_free(d);
	pr_buf_free(&b);
	pr_buf_free(&b2);
	pr_dsse_free(e);
	pr_key_free(other);
	pr_key_free(k);
}

struct bad_entry {
	const char *hex;
	int rc;
};

static void
test_decode_strictness(void **state)
{
	/* Header: version 01, log time 0000000000000001. */
#define H "010000000000000001"
	static const struct bad_entry bad[] = {
	    {"", PR_ETRUNC},
	    {"0100000000000000", PR_ETRUNC},
	    {"000000000000000001000174000000010000000101", PR_EVERSION},
	    {"020000000000000001000174000000010000000101", PR_EVERSION},
	    {H, PR_ETRUNC},
	    {H "00", PR_ETRUNC},
	    {H "0002"
	       "74",
	        PR_ETRUNC},
	    {H "0000"
	       "0000"
	       "01"
	       "00"
	       "0001"
	       "01",
	        PR_EFORMAT},
	    {H "0001"
	       "74",
	        PR_ETRUNC},
	    {H "0001"
	       "74"
	       "0005"
	       "6869",
	        PR_ETRUNC},
	    {H "0001"
	       "74"
	       "0000",
	        PR_ETRUNC},
	    {H "0001"
	       "74"
	       "0000"
	       "00",
	        PR_EFORMAT},
	    {H "0001"
	       "74"
	       "0000"
	       "11",
	        PR_EFORMAT},
	    {H "0001"
	       "74"
	       "0000"
	       "01",
	        PR_ETRUNC},
	    {H "0001"
	       "74"
	       "0000"
	       "01"
	       "05"
	       "6b",
	        PR_ETRUNC},
	    {H "0001"
	       "74"
	       "0000"
	       "01"
	       "00"
	       "0000",
	        PR_EFORMAT},
	    {H "0001"
	       "74"
	       "0000"
	       "01"
	       "00"
	       "0002"
	       "01",
	        PR_ETRUNC},
	    {H "0001"
	       "74"
	       "0000"
	       "01"
	       "00"
	       "0001"
	       "01"
	       "00",
	        PR_EFORMAT},
	    {H "0001"
	       "74"
	       "0000"
	       "02"
	       "00"
	       "0001"
	       "01",
	        PR_ETRUNC},
	    {H "0001"
	       "ff"
	       "0000"
	       "01"
	       "00"
	       "0001"
	       "01",
	        PR_EFORMAT},
	    {H "0002"
	       "7400"
	       "0000"
	       "01"
	       "00"
	       "0001"
	       "01",
	        PR_EFORMAT},
	    {H "0001"
	       "74"
	       "0000"
	       "01"
	       "01"
	       "c0"
	       "0001"
	       "01",
	        PR_EFORMAT},
	    {H "0001"
	       "74"
	       "0000"
	       "01"
	       "01"
	       "00"
	       "0001"
	       "01",
	        PR_EFORMAT},
	};
#undef H
	struct pr_buf raw = PR_BUF_INIT;
	struct pr_entry ent;
	struct pr_dsse *d;
	size_t i, n;
	int rc;

	(void)state;
	/* The smallest valid entry, then the bad ones. */
	{
		uint8_t min[19];

		assert_int_equal(
		    pr_hex_decode("01000000000000000100017400000100"
		                  "000101",
		        38, min, sizeof(min)),
		    0);
		assert_int_equal(pr_entry_parse(min, sizeof(min), &ent), 0);
		assert_int_equal(ent.payload_len, 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = strlen(bad[i].hex) / 2;
		pr_buf_reset(&raw);
		assert_int_equal(pr_buf_reserve(&raw, n), 0);
		assert_int_equal(
		    pr_hex_decode(bad[i].hex, 2 * n, raw.data, n), 0);
		rc = pr_entry_parse(raw.data, n, &ent);
		if (rc != bad[i].rc)
			fail_msg(
			    "bad entry %zu: got %d, want %d", i, rc, bad[i].rc);
		assert_int_equal(pr_entry_decode(raw.data, n, NULL, &d), rc);
	}
	/* Larger than 65,535 bytes. */
	pr_buf_reset(&raw);
	assert_int_equal(pr_buf_reserve(&raw, 65536), 0);
	memset(raw.data, 0, 65536);
	raw.data[0] = 1;
	assert_int_equal(pr_entry_parse(raw.data, 65536, &ent), PR_ETOOBIG);
	pr_buf_free(&raw);
}

static void
test_encode_limits(void **state)
{
	struct pr_buf b = PR_BUF_INIT;
	struct pr_dsse *e;
	struct pr_entry ent;
	uint8_t *big, sig[64] = {0};
	size_t n;

	(void)state;
	/* No signature. */
	assert_int_equal(pr_dsse_new("t", (const uint8_t *)"x", 1, &e), 0);
	assert_int_equal(pr_entry_encode(e, 1, &b), PR_EINVAL);
	assert_int_equal(b.len, 0);
	pr_dsse_free(e);
	/* Exactly 65,535 bytes. */
	n = PR_ENTRY_MAX - 9 - (2 + 1 + 2 + 1 + 1 + 2 + 64);
	assert_non_null(big = calloc(1, n));
	assert_int_equal(pr_dsse_new("t", big, n, &e), 0);
	assert_int_equal(pr_dsse_add_sig(e, NULL, 0, sig, 64), 0);
	assert_int_equal(pr_entry_encode(e, UINT64_MAX, &b), 0);
	assert_int_equal(b.len, PR_ENTRY_MAX);
	assert_int_equal(pr_entry_parse(b.data, b.len, &ent), 0);
	assert_true(ent.log_time == UINT64_MAX);
	assert_null(ent.sigs[0].keyid);
	/* One byte more cannot be built. */
	assert_int_equal(pr_dsse_add_sig(e, NULL, 0, sig, 1), PR_ETOOBIG);
	pr_dsse_free(e);
	free(big);
	pr_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_answer),
	    cmocka_unit_test(test_decode_and_verify),
	    cmocka_unit_test(test_decode_strictness),
	    cmocka_unit_test(test_encode_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
