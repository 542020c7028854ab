/* Unit tests: proto/dsse.c (DSSE v1 envelopes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "proto/buf.h"
#include "proto/dsse.h"
#include "proto/enc.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/key.h"

/* The example of the DSSE protocol specification (protocol.md). */
static const char *spec_pae =
    "DSSEv1 29 http://example.com/HelloWorld 11 hello world";
static const char *spec_env =
    "{\"payload\": \"aGVsbG8gd29ybGQ=\",\n"
    " \"payloadType\": \"http://example.com/HelloWorld\",\n"
    " \"signatures\": [{\"sig\": "
    "\"A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAr"
    "iEGAHTVeCUjW2JIZA==\"}]}";
/* Its ECDSA P-256 key (X, Y in hex). */
static const char *spec_x =
    "67cd390f77aa359cb08c2235f652270493a9ed832b0abcc01f70954c0390d238";
static const char *spec_y =
    "0c782bd54e269125a44f4433aff1432ce94e12bca73aa67ac80cea12608ddf74";

/* RFC 8032 TEST 1 key; its Ed25519 signature over spec_pae (computed with
 * python3-cryptography). */
static const char *t1_seed =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char *t1_sig_b64 = "4DHX3Zn4qpBKvEj7maE8O9u9bjXEnPLLnyXVUJ2PXJR8"
                                "DSLcL3QDpFvfJOj3pB/SPHsl6Jg4boxsMb6KvuYABw==";

static void
test_pae_spec_example(void **state)
{
	struct pr_buf b = PR_BUF_INIT;

	(void)state;
	assert_int_equal(pr_dsse_pae("http://example.com/HelloWorld", 29,
	                     (const uint8_t *)"hello world", 11, &b),
	    0);
	assert_int_equal(b.len, strlen(spec_pae));
	assert_memory_equal(b.data, spec_pae, b.len);
	pr_buf_reset(&b);
	assert_int_equal(pr_dsse_pae("t", 1, (const uint8_t *)"", 0, &b), 0);
	assert_string_equal((char *)b.data, "DSSEv1 1 t 0 ");
	pr_buf_free(&b);
}

/* Verify the spec's own ECDSA signature over our PAE with OpenSSL. */
static int
spec_ecdsa_verify(const uint8_t *msg, size_t len, const uint8_t *rs)
{
	uint8_t pub[65], der[80], *dp = der;
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params;
	EVP_PKEY_CTX *pctx;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *md;
	ECDSA_SIG *sig;
	int derlen, ok;

	pub[0] = 0x04;
	assert_int_equal(pr_hex_decode(spec_x, 64, pub + 1, 32), 0);
	assert_int_equal(pr_hex_decode(spec_y, 64, pub + 33, 32), 0);
	assert_non_null(bld = OSSL_PARAM_BLD_new());
	OSSL_PARAM_BLD_push_utf8_string(
	    bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
	OSSL_PARAM_BLD_push_octet_string(
	    bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub));
	assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
	assert_non_null(pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL));
	assert_int_equal(EVP_PKEY_fromdata_init(pctx), 1);
	assert_int_equal(
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
	assert_non_null(sig = ECDSA_SIG_new());
	ECDSA_SIG_set0(
	    sig, BN_bin2bn(rs, 32, NULL), BN_bin2bn(rs + 32, 32, NULL));
	derlen = i2d_ECDSA_SIG(sig, &dp);
	assert_true(derlen > 0);
	assert_non_null(md = EVP_MD_CTX_new());
	assert_int_equal(
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey), 1);
	ok = EVP_DigestVerify(md, der, (size_t)derlen, msg, len);
	EVP_MD_CTX_free(md);
	ECDSA_SIG_free(sig);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return ok;
}

static void
test_spec_envelope(void **state)
{
	struct pr_dsse *e;
	struct pr_dsse_error err;
	struct pr_buf pae = PR_BUF_INIT, out = PR_BUF_INIT;

	(void)state;
	assert_int_equal(
	    pr_dsse_parse(spec_env, strlen(spec_env), &e, &err), 0);
	assert_null(err.code);
	assert_string_equal(e->payload_type, "http://example.com/HelloWorld");
	assert_int_equal(e->payload_len, 11);
	assert_memory_equal(e->payload, "hello world", 11);
	assert_int_equal(e->nsigs, 1);
	assert_null(e->sigs[0].keyid);
	assert_int_equal(e->sigs[0].siglen, 64);
	assert_int_equal(pr_dsse_pae(e->payload_type, e->payload_type_len,
	                     e->payload, e->payload_len, &pae),
	    0);
	/* The published signature verifies over our PAE, a changed one not. */
	assert_int_equal(
	    spec_ecdsa_verify(pae.data, pae.len, e->sigs[0].sig), 1);
	pae.data[pae.len - 1] ^= 1;
	assert_int_not_equal(
	    spec_ecdsa_verify(pae.data, pae.len, e->sigs[0].sig), 1);
	assert_int_equal(pr_dsse_serialize(e, &out), 0);
	assert_string_equal((char *)out.data,
	    "{\"payloadType\":\"http://example.com/HelloWorld\","
	    "\"payload\":\"aGVsbG8gd29ybGQ=\",\"signatures\":[{\"sig\":"
	    "\"A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJ"
	    "PcIAriEGAHTVeCUjW2JIZA==\"}]}");
	/* The same signature in the URL-safe alphabet decodes the same. */
	{
		struct pr_dsse *u;
		char *url, *p;

		assert_non_null(url = strdup(spec_env));
		for (p = strstr(url, "A3Jq"); *p != '"'; p++)
			if (*p == '+')
				*p = '-';
		assert_null(strchr(strstr(url, "A3Jq"), '+'));
		assert_int_equal(pr_dsse_parse(url, strlen(url), &u, &err), 0);
		assert_memory_equal(u->sigs[0].sig, e->sigs[0].sig, 64);
		pr_dsse_free(u);
		free(url);
	}
	pr_buf_free(&pae);
	pr_buf_free(&out);
	pr_dsse_free(e);
}

static struct pr_key *
t1_key(void)
{
	uint8_t seed[32];
	struct pr_key *k;

	assert_int_equal(pr_hex_decode(t1_seed, 64, seed, 32), 0);
	assert_int_equal(pr_key_from_seed(seed, &k), 0);
	return k;
}

static void
test_ed25519_known_answer(void **state)
{
	struct pr_dsse *e;
	struct pr_buf b64 = PR_BUF_INIT;
	struct pr_key *k = t1_key();

	(void)state;
	assert_int_equal(pr_dsse_new("http://example.com/HelloWorld",
	                     (const uint8_t *)"hello world", 11, &e),
	    0);
	assert_int_equal(pr_dsse_sign(e, k), 0);
	assert_int_equal(pr_b64_encode(&b64, e->sigs[0].sig, 64), 0);
	assert_string_equal((char *)b64.data, t1_sig_b64);
	assert_string_equal(e->sigs[0].keyid, pr_key_keyid(k));
	assert_int_equal(pr_dsse_verify(e, 0, k), 0);
	assert_int_equal(pr_dsse_verify(e, 1, k), PR_EINVAL);
	pr_buf_free(&b64);
	pr_dsse_free(e);
	pr_key_free(k);
}

static void
test_sign_several_and_tamper(void **state)
{
	const char *payload = "{\"kind\":\"contract\",\"ocid\":\"ocds-x-1\"}";
	struct pr_key *buyer, *supplier, *pub;
	struct pr_dsse *e, *back;
	struct pr_dsse_error err;
	struct pr_buf json = PR_BUF_INIT;
	char *p;

	(void)state;
	assert_int_equal(pr_key_generate(&buyer), 0);
	assert_int_equal(pr_key_generate(&supplier), 0);
	assert_int_equal(pr_key_public(supplier, &pub), 0);
	assert_int_equal(pr_dsse_new(PR_DSSE_PAYLOAD_TYPE,
	                     (const uint8_t *)payload, strlen(payload), &e),
	    0);
	assert_int_equal(pr_dsse_sign(e, buyer), 0);
	assert_int_equal(pr_dsse_sign(e, supplier), 0);
	assert_int_equal(pr_dsse_sign(e, pub), PR_EKEY);
	assert_int_equal(pr_dsse_serialize(e, &json), 0);
	assert_int_equal(
	    pr_dsse_parse((char *)json.data, json.len, &back, &err), 0);
	assert_string_equal(back->payload_type, PR_DSSE_PAYLOAD_TYPE);
	assert_int_equal(back->nsigs, 2);
	assert_string_equal(back->sigs[1].keyid, pr_key_keyid(supplier));
	assert_int_equal(pr_dsse_verify(back, 0, buyer), 0);
	assert_int_equal(pr_dsse_verify(back, 1, pub), 0);
	assert_int_equal(pr_dsse_verify(back, 0, pub), PR_ESIG);
	assert_int_equal(pr_dsse_verify(back, 1, buyer), PR_ESIG);
	/* Tampered payload and payloadType. */
	back->payload[3] ^= 1;
	assert_int_equal(pr_dsse_verify(back, 0, buyer), PR_ESIG);
	back->payload[3] ^= 1;
	back->payload_type[0] = 'b';
	assert_int_equal(pr_dsse_verify(back, 0, buyer), PR_ESIG);
	back->payload_type[0] = 'a';
	/* PAE binds the lengths: moving a byte between type and body fails. */
	assert_int_equal(pr_dsse_verify_raw(PR_DSSE_PAYLOAD_TYPE,
	                     strlen(PR_DSSE_PAYLOAD_TYPE) - 1, back->payload,
	                     back->payload_len, back->sigs[0].sig, 64, buyer),
	    PR_ESIG);
	pr_dsse_free(back);
	/* URL-safe base64 is accepted too (payloadType left alone). */
	for (p = strstr((char *)json.data, "\"payload\":"); *p != '\0'; p++)
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	if (pr_dsse_parse((char *)json.data, json.len, &back, &err) != 0)
		fail_msg("url-safe: %s %s", err.code, err.field);
	assert_int_equal(pr_dsse_verify(back, 1, supplier), 0);
	pr_dsse_free(back);
	pr_buf_free(&json);
	pr_dsse_free(e);
	pr_key_free(pub);
	pr_key_free(buyer);
	pr_key_free(supplier);
}

#define SIG "\"sig\":\"AAAA\""
#define ENV(sigs)                                                              \
	"{\"payloadType\":\"t\",\"payload\":\"aGk=\",\"signatures\":[" sigs "]}"

struct bad_case {
	const char *json;
	const char *code;
	const char *field;
};

static void
test_parse_strictness(void **state)
{
	static const struct bad_case bad[] = {
	    {"{", "bad_json", ""},
	    {ENV("{" SIG "}") " x", "bad_json", ""},
	    {"", "bad_json", ""},
	    {"[]", "not_object", ""},
	    {"\"str\"", "bad_json", ""},
	    {"{\"payloadType\":\"t\",\"payloadType\":\"u\",\"payload\":\"\","
	     "\"signatures\":[{" SIG "}]}",
	        "duplicate_key", ""},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGk=\",\"signatures\":[{" SIG
	     "}],\"extra\":1}",
	        "unknown_field", "extra"},
	    {"{\"payload\":\"aGk=\",\"signatures\":[{" SIG "}]}", "missing",
	        "payloadType"},
	    {"{\"payloadType\":\"t\",\"signatures\":[{" SIG "}]}", "missing",
	        "payload"},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGk=\"}", "missing",
	        "signatures"},
	    {"{\"payloadType\":7,\"payload\":\"aGk=\",\"signatures\":[{" SIG
	     "}]}",
	        "wrong_type", "payloadType"},
	    {"{\"payloadType\":\"\",\"payload\":\"aGk=\",\"signatures\":[{" SIG
	     "}]}",
	        "empty", "payloadType"},
	    {"{\"payloadType\":\"t\",\"payload\":null,\"signatures\":[{" SIG
	     "}]}",
	        "wrong_type", "payload"},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGk\",\"signatures\":[{" SIG
	     "}]}",
	        "bad_base64", "payload"},
	    {"{\"payloadType\":\"t\",\"payload\":\"a+_k\",\"signatures\":[{" SIG
	     "}]}",
	        "bad_base64", "payload"},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGk=\",\"signatures\":{}}",
	        "wrong_type", "signatures"},
	    {ENV(""), "empty", "signatures"},
	    {ENV("\"x\""), "wrong_type", "signatures[0]"},
	    {ENV("{" SIG "},{\"keyid\":\"k\"}"), "missing",
	        "signatures[1].sig"},
	    {ENV("{\"sig\":\"\"}"), "empty", "signatures[0].sig"},
	    {ENV("{" SIG "},{\"sig\":\"AAA\"}"), "bad_base64",
	        "signatures[1].sig"},
	    {ENV("{\"sig\":7}"), "wrong_type", "signatures[0].sig"},
	    {ENV("{" SIG ",\"keyid\":7}"), "wrong_type", "signatures[0].keyid"},
	    {ENV("{" SIG ",\"keyid\":null}"), "wrong_type",
	        "signatures[0].keyid"},
	    {ENV("{" SIG ",\"x\":1}"), "unknown_field", "signatures[0].x"},
	    {ENV("{" SIG "," SIG "}"), "duplicate_key", ""},
	    {"{\"payloadType\":\"t\\u0000\",\"payload\":\"aGk=\","
	     "\"signatures\":[{" SIG "}]}",
	        "bad_json", ""},
	    {"{\"payloadType\":\"\xff\",\"payload\":\"aGk=\",\"signatures\":["
	     "{" SIG "}]}",
	        "bad_utf8", ""},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGVsbG8gd29ybGQgaGVsbG8gd29y"
	     "bGQ\",\"signatures\":[{" SIG "}]}",
	        "bad_base64", "payload"},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGVsbG8gd29ybGQgaGVsbG8gd29y"
	     "\tbGQ=\",\"signatures\":[{" SIG "}]}",
	        "bad_json", ""},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGk=\",\"signatures\":[{" SIG
	     "}],\"AAAAAAAAAAAAAAAAAAAAAAAA\":1,\"AAAAAAAAAAAAAAAAAAAAAAAA\":"
	     "2}",
	        "duplicate_key", ""},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGk=\",\"signatures\":[{" SIG
	     "}],\"AAAAAAAAAAAAAAAAAAAAAAAA\" : 1}",
	        "unknown_field", "AAAAAAAAAAAAAAAAAAAAAAAA"},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGVsbG8gd29ybGQgaGVsbG8gd29y"
	     "bGQ=\",\"signatures\":\"AAAAAAAAAAAAAAAAAAAAAAAA\"}",
	        "wrong_type", "signatures"},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGVsbG8gd29ybGQgaGVsbG8gd29y"
	     "bGQ=\",\"signatures\":[{\"sig\":\"AAAAAAAAAAAAAAAAAAAAAAAA\",\"ke"
	     "yid\":\"AAAAAAAAAAAAAAAAAAAAAAAA\",\"sig\":\"AAAA\"}]}",
	        "duplicate_key", ""},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGVsbG8gd29ybGQgaGVsbG8gd29y"
	     "bGQ=\",\"signatures\":[{\"sig\":\"AAAAAAAAAAAAAAAAAAAAAAAA",
	        "bad_json", ""},
	    {ENV("{" SIG "},{" SIG "},{" SIG "},{" SIG "},{" SIG "},{" SIG
	         "},{" SIG "},{" SIG "},{" SIG "},{" SIG "},{" SIG "},{" SIG
	         "},{" SIG "},{" SIG "},{" SIG "},{" SIG "},{" SIG "}"),
	        "too_many", "signatures"},
	};
	struct pr_dsse_error err;
	struct pr_dsse *e;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = NULL;
		rc = pr_dsse_parse(bad[i].json, strlen(bad[i].json), &e, &err);
		if (rc == 0)
			fail_msg("bad envelope %zu accepted", i);
		assert_int_equal(rc, PR_EFORMAT);
		assert_null(e);
		assert_non_null(err.code);
		if (strcmp(err.code, bad[i].code) != 0 ||
		    strcmp(err.field, bad[i].field) != 0)
			fail_msg("case %zu: got %s/%s, want %s/%s", i, err.code,
			    err.field, bad[i].code, bad[i].field);
		assert_true(strlen(err.message) > 0);
	}
	/* 16 signatures, keyid "" (absent) and a 255-byte keyid pass. */
	{
		const char *ok =
		    ENV("{" SIG ",\"keyid\":\"\"},{" SIG "},{" SIG "},{" SIG
		        "},{" SIG "},{" SIG "},{" SIG "},{" SIG "},{" SIG
		        "},{" SIG "},{" SIG "},{" SIG "},{" SIG "},{" SIG
		        "},{" SIG "},{" SIG "}");

		assert_int_equal(pr_dsse_parse(ok, strlen(ok), &e, &err), 0);
		assert_int_equal(e->nsigs, 16);
		assert_null(e->sigs[0].keyid);
		pr_dsse_free(e);
	}
}

/* The same envelope written plainly, with escapes and whitespace, and in
 * the URL-safe alphabet: escapes are decoded before base64 is. */
static void
test_string_forms(void **state)
{
	static const char *same[] = {
	    "{\"payloadType\":\"t/x\",\"payload\":\"aGVsbG8/Pz4=\","
	    "\"signatures\":[{\"keyid\":\"k1\",\"sig\":\"AAAA\"}]}",
	    " {\"signatures\" : [ {\"sig\":\"\\u0041AAA\" , "
	    "\"keyid\":\"\\u006b1\"} ] ,\n\"payload\":\"aGVsbG8\\/Pz4\\u003d\","
	    "\r\n\t\"payloadType\":\"t\\/x\"} \n",
	    "{\"payloadType\":\"t/x\",\"payload\":\"aGVsbG8_Pz4=\","
	    "\"signatures\":[{\"sig\":\"AAAA\",\"keyid\":\"k1\"}]}",
	};
	static const char *ok[] = {
	    /* Escapes and non-ASCII. */
	    "{\"payloadType\":\"application/vnd.\\u00e9xample \\\"q\\\" "
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\",\"payload\": "
	    "\"aGVsbG8gd29y"
	    "bGQgaGVsbG8gd29ybGQ=\" ,\"signatures\":[{\"sig\"  :  "
	    "\"AAAAAAAAAAAAAAAAAAAAAAAA\"}]}",
	    /* A control character by escape in a keyid. */
	    "{\"payloadType\":\"aaaaaaaaaaaaaaaaaaaaaaaa\",\"payload\":\"\","
	    "\"signatures\":[{\"keyid\":\"\\u00010\",\"sig\":\"AAAA\"}]}",
	    /* A surrogate pair in a keyid. */
	    "{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[{"
	    "\"keyid\":"
	    "\"\\uD83D\\uDE00\",\"sig\":\"AAAA\"}]}",
	};
	struct pr_dsse *a, *b;
	struct pr_dsse_error err;
	size_t i;

	(void)state;
	assert_int_equal(pr_dsse_parse(same[0], strlen(same[0]), &a, &err), 0);
	assert_int_equal(a->payload_len, 8);
	assert_memory_equal(a->payload, "hello?\?>", 8);
	for (i = 1; i < sizeof(same) / sizeof(same[0]); i++) {
		if (pr_dsse_parse(same[i], strlen(same[i]), &b, &err) != 0)
			fail_msg("case %zu: %s %s", i, err.code, err.message);
		assert_string_equal(a->payload_type, b->payload_type);
		assert_int_equal(a->payload_len, b->payload_len);
		assert_memory_equal(a->payload, b->payload, a->payload_len);
		assert_int_equal(b->nsigs, 1);
		assert_int_equal(b->sigs[0].siglen, 3);
		assert_memory_equal(b->sigs[0].sig, "\0\0\0", 3);
		assert_string_equal(b->sigs[0].keyid, "k1");
		pr_dsse_free(b);
	}
	pr_dsse_free(a);
	assert_int_equal(pr_dsse_parse(ok[1], strlen(ok[1]), &a, &err), 0);
	assert_string_equal(a->sigs[0].keyid,
	    "\x01"
	    "0");
	assert_string_equal(a->payload_type, "aaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(a->payload_len, 0);
	pr_dsse_free(a);
	assert_int_equal(pr_dsse_parse(ok[0], strlen(ok[0]), &a, &err), 0);
	assert_string_equal(a->payload_type,
	    "application/vnd.\xc3\xa9xample \"q\" "
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	assert_int_equal(a->sigs[0].siglen, 18);
	pr_dsse_free(a);
	assert_int_equal(pr_dsse_parse(ok[2], strlen(ok[2]), &a, &err), 0);
	assert_string_equal(a->sigs[0].keyid, "\xf0\x9f\x98\x80");
	pr_dsse_free(a);
}

/* A text of n bytes (n = 0: strlen) and the verdict it must get. */
struct edge_case {
	const char *json;
	size_t n;
	const char *code; /* NULL: accepted */
	const char *field;
};

#define SIGS "\"signatures\":[{" SIG "}]"
#define WITH_NUL(s) s, sizeof(s) - 1

/* JSON-level corners: NUL bytes, escapes, numbers, nesting, UTF-8. */
static void
test_parse_json_edges(void **state)
{
	static const struct edge_case cases[] = {
	    /* NUL inside a string, between tokens, after the value. */
	    {WITH_NUL(
	         "{\"payloadType\":\"t\0\",\"payload\":\"aGk=\"," SIGS "}"),
	        "bad_json", ""},
	    {WITH_NUL(
	         "{\"payloadType\":\"t\",\0\"payload\":\"aGk=\"," SIGS "}"),
	        "bad_json", ""},
	    {WITH_NUL(ENV("{" SIG "}") "\0"), "bad_json", ""},
	    {ENV("{" SIG "}") " \r\n\t", 0, NULL, NULL},
	    /* \u escapes in keys and a keyid; the decoded length counts. */
	    {"{\"payload\\u0054ype\":\"t\",\"payload\":\"aGk=\"," SIGS "}", 0,
	        NULL, NULL},
	    {ENV("{" SIG ",\"keyid\":\"\\ud800\"}"), 0, "bad_json", ""},
	    {ENV("{" SIG ",\"keyid\":\"\\udc00\\ud800\"}"), 0, "bad_json", ""},
	    {ENV("{" SIG ",\"keyid\":\"\\u00\"}"), 0, "bad_json", ""},
	    {ENV("{" SIG ",\"keyid\":\"\\x41\"}"), 0, "bad_json", ""},
	    {ENV("{" SIG ",\"k\\u0065yid\":\"a\",\"keyid\":\"b\"}"), 0,
	        "duplicate_key", ""},
	    {ENV("{" SIG ",\"\":1}"), 0, "unknown_field", "signatures[0]."},
	    {"{\"\":1}", 0, "unknown_field", ""},
	    /* Numbers: huge ones where a string belongs, or in an unknown
	     * member; over int64, out of double range, over 400 bytes. */
	    {"{\"payloadType\":1e308,\"payload\":\"aGk=\"," SIGS "}", 0,
	        "wrong_type", "payloadType"},
	    {"{\"payloadType\":\"t\",\"payload\":-9223372036854775808," SIGS
	     "}",
	        0, "wrong_type", "payload"},
	    {ENV("{" SIG "}") ",\"n\":1}", 0, "bad_json", ""},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGk=\"," SIGS
	     ",\"n\":1e-400}",
	        0, "unknown_field", "n"},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGk=\"," SIGS
	     ",\"n\":9223372036854775808}",
	        0, "bad_json", ""},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGk=\"," SIGS
	     ",\"n\":1e309}",
	        0, "bad_json", ""},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGk=\"," SIGS ",\"n\":01}",
	        0, "bad_json", ""},
	    /* UTF-8: in a key, overlong, an encoded surrogate, cut short,
	     * outside strings. */
	    {"{\"payloadType\":\"t\",\"payload\":\"aGk=\"," SIGS
	     ",\"\xc3\xa9\":1}",
	        0, "unknown_field", "\xc3\xa9"},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGk=\"," SIGS ",\"\xc3\":1}",
	        0, "bad_utf8", ""},
	    {"{\"payloadType\":\"\xc0\xaf\",\"payload\":\"aGk=\"," SIGS "}", 0,
	        "bad_utf8", ""},
	    {"{\"payloadType\":\"\xed\xa0\x80\",\"payload\":\"aGk=\"," SIGS "}",
	        0, "bad_utf8", ""},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGk=\"," SIGS "}\xff", 0,
	        "bad_utf8", ""},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGk=\"," SIGS "}\xc3\xa9", 0,
	        "bad_json", ""},
	    {"{\"payloadType\":tru\xff}", 0, "bad_utf8", ""},
	    /* Base64 with an escaped character decodes as the character. */
	    {"{\"payloadType\":\"t\",\"payload\":\"aGk\\u003d\"," SIGS "}", 0,
	        NULL, NULL},
	    {"{\"payloadType\":\"t\",\"payload\":\"aGk\\n\"," SIGS "}", 0,
	        "bad_base64", "payload"},
	};
	struct pr_dsse_error err;
	struct pr_dsse *e;
	size_t i, n;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = cases[i].n ? cases[i].n : strlen(cases[i].json);
		e = NULL;
		rc = pr_dsse_parse(cases[i].json, n, &e, &err);
		if (cases[i].code == NULL) {
			if (rc != 0)
				fail_msg("case %zu: %s %s", i, err.code,
				    err.message);
			assert_int_equal(e->payload_len, 2);
			assert_memory_equal(e->payload, "hi", 2);
			pr_dsse_free(e);
			continue;
		}
		if (rc == 0)
			fail_msg("case %zu accepted", i);
		assert_int_equal(rc, PR_EFORMAT);
		assert_null(e);
		if (strcmp(err.code, cases[i].code) != 0 ||
		    strcmp(err.field, cases[i].field) != 0)
			fail_msg("case %zu: got %s/%s (%s), want %s/%s", i,
			    err.code, err.field, err.message, cases[i].code,
			    cases[i].field);
	}
	/* Where a JSON fault lies, in printable ASCII. */
	assert_int_equal(
	    pr_dsse_parse("{\n \"a\" 1}", 10, &e, &err), PR_EFORMAT);
	assert_non_null(strstr(err.message, "line 2, column 6"));
	assert_int_equal(
	    pr_dsse_parse("{\"\\u0001\":1,\"\\u0001\":2}", 24, &e, &err),
	    PR_EFORMAT);
	assert_string_equal(err.code, "duplicate_key");
	for (i = 0; err.message[i] != '\0'; i++)
		assert_true(err.message[i] >= 0x20 && err.message[i] < 0x7f);
}

/* Nesting in an unknown member: refused as unknown up to 2048 arrays and
 * objects deep, as bad JSON beyond. */
static void
test_parse_deep(void **state)
{
	struct pr_buf json = PR_BUF_INIT;
	struct pr_dsse_error err;
	struct pr_dsse *e = NULL;
	size_t depth[] = {100, 2047, 2048, 100000}, i, k;

	(void)state;
	for (i = 0; i < sizeof(depth) / sizeof(depth[0]); i++) {
		pr_buf_reset(&json);
		pr_buf_append_str(&json, "{\"payloadType\":\"t\",\"x\":");
		for (k = 1; k < depth[i]; k++)
			pr_buf_append_str(&json, k % 2 ? "[" : "{\"a\":");
		if (depth[i] % 2 == 1) /* the innermost is an object */
			pr_buf_append_byte(&json, '0');
		for (k = depth[i] - 1; k > 0; k--)
			pr_buf_append_str(&json, k % 2 ? "]" : "}");
		pr_buf_append_str(&json, "}");
		assert_int_equal(
		    pr_dsse_parse((char *)json.data, json.len, &e, &err),
		    json.len > PR_DSSE_MAX_JSON ? PR_ETOOBIG : PR_EFORMAT);
		assert_null(e);
		if (json.len > PR_DSSE_MAX_JSON)
			assert_string_equal(err.code, "too_large");
		else if (depth[i] <= 2048) {
			assert_string_equal(err.code, "unknown_field");
			assert_string_equal(err.field, "x");
		} else
			assert_string_equal(err.code, "bad_json");
	}
	/* 3000 deep within the size limit. */
	pr_buf_reset(&json);
	pr_buf_append_str(&json, "{\"x\":");
	for (k = 0; k < 3000; k++)
		pr_buf_append_byte(&json, '[');
	assert_int_equal(
	    pr_dsse_parse((char *)json.data, json.len, &e, &err), PR_EFORMAT);
	assert_string_equal(err.code, "bad_json");
	assert_non_null(strstr(err.message, "nest at most 2048"));
	pr_buf_free(&json);
}

static void
test_size_limits(void **state)
{
	struct pr_buf json = PR_BUF_INIT, keyid = PR_BUF_INIT;
	struct pr_dsse_error err;
	struct pr_dsse *e;
	uint8_t *big;
	size_t n;

	(void)state;
	/* keyid of 255 bytes passes, 256 does not. */
	for (n = 0; n < 255; n++)
		pr_buf_append_byte(&keyid, 'k');
	pr_buf_printf(
	    &json, ENV("{" SIG ",\"keyid\":\"%s\"}"), (char *)keyid.data);
	assert_int_equal(
	    pr_dsse_parse((char *)json.data, json.len, &e, &err), 0);
	assert_int_equal(strlen(e->sigs[0].keyid), 255);
	pr_dsse_free(e);
	pr_buf_append_byte(&keyid, 'k');
	pr_buf_reset(&json);
	pr_buf_printf(
	    &json, ENV("{" SIG ",\"keyid\":\"%s\"}"), (char *)keyid.data);
	assert_int_equal(
	    pr_dsse_parse((char *)json.data, json.len, &e, &err), PR_EFORMAT);
	assert_string_equal(err.code, "too_long");
	assert_string_equal(err.field, "signatures[0].keyid");
	/* A decoded envelope of exactly PR_DSSE_MAX_SIZE passes; one more
	 * byte does not. */
	n = PR_DSSE_MAX_SIZE - (2 + 1 + 2 + 1 + 1 + 2 + 3);
	assert_non_null(big = calloc(1, n + 1));
	pr_buf_reset(&json);
	pr_buf_append_str(&json, "{\"payloadType\":\"t\",\"payload\":\"");
	pr_b64_encode(&json, big, n);
	pr_buf_append_str(&json, "\",\"signatures\":[{" SIG "}]}");
	assert_int_equal(
	    pr_dsse_parse((char *)json.data, json.len, &e, &err), 0);
	assert_int_equal(pr_dsse_size(e), PR_DSSE_MAX_SIZE);
	pr_dsse_free(e);
	pr_buf_reset(&json);
	pr_buf_append_str(&json, "{\"payloadType\":\"t\",\"payload\":\"");
	pr_b64_encode(&json, big, n + 1);
	pr_buf_append_str(&json, "\",\"signatures\":[{" SIG "}]}");
	assert_int_equal(
	    pr_dsse_parse((char *)json.data, json.len, &e, &err), PR_ETOOBIG);
	assert_string_equal(err.code, "too_large");
	assert_int_equal(pr_dsse_new("t", big, n + 1, &e), 0);
	pr_dsse_free(e);
	assert_int_equal(
	    pr_dsse_new("t", big, PR_DSSE_MAX_SIZE, &e), PR_ETOOBIG);
	/* Raw JSON size limit. */
	pr_buf_reset(&json);
	while (json.len <= PR_DSSE_MAX_JSON)
		pr_buf_append_str(&json, "                ");
	assert_int_equal(
	    pr_dsse_parse((char *)json.data, json.len, &e, &err), PR_ETOOBIG);
	assert_string_equal(err.code, "too_large");
	free(big);
	pr_buf_free(&json);
	pr_buf_free(&keyid);
}

static void
test_new_and_add_sig_rules(void **state)
{
	struct pr_dsse *e;
	uint8_t sig[64] = {1};
	size_t i;

	(void)state;
	assert_int_equal(
	    pr_dsse_new("", (const uint8_t *)"x", 1, &e), PR_EINVAL);
	assert_int_equal(
	    pr_dsse_new("\xff", (const uint8_t *)"x", 1, &e), PR_EINVAL);
	assert_int_equal(pr_dsse_new("t", NULL, 0, &e), 0);
	assert_int_equal(e->payload_len, 0);
	assert_int_equal(pr_dsse_add_sig(e, "k", 1, sig, 0), PR_EINVAL);
	assert_int_equal(pr_dsse_add_sig(e, "k\xff", 2, sig, 64), PR_EINVAL);
	for (i = 0; i < PR_DSSE_MAX_SIGS; i++)
		assert_int_equal(pr_dsse_add_sig(e, NULL, 0, sig, 64), 0);
	assert_int_equal(pr_dsse_add_sig(e, NULL, 0, sig, 64), PR_ERANGE);
	pr_dsse_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pae_spec_example),
	    cmocka_unit_test(test_spec_envelope),
	    cmocka_unit_test(test_ed25519_known_answer),
	    cmocka_unit_test(test_sign_several_and_tamper),
	    cmocka_unit_test(test_parse_strictness),
	    cmocka_unit_test(test_string_forms),
	    cmocka_unit_test(test_parse_json_edges),
	    cmocka_unit_test(test_parse_deep),
	    cmocka_unit_test(test_size_limits),
	    cmocka_unit_test(test_new_and_add_sig_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
