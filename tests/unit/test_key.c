/* Unit tests: proto/key.c (Ed25519 keys, key files, key IDs, vkeys). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "proto/buf.h"
#include "proto/enc.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/key.h"

/* RFC 8032 section 7.1, TEST 1 and TEST 2. */
static const char *t1_seed =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char *t1_pub =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static const char *t1_sig =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8"
    "821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
static const char *t2_seed =
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
static const char *t2_pub =
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
static const char *t2_sig =
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085a"
    "c1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";
/* hashlib.sha256(TEST 1 public key).hexdigest() */
static const char *t1_keyid =
    "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9";
/* The verifier key of TEST 1 under the name example.com/log. */
static const char *t1_vkey = "example.com/log+cc714670+"
                             "AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea";

static char tmpdir[256];

static int
setup_dir(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_key.XXXXXX",
	    t != NULL && t[0] != '\0' ? t : "/tmp");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_dir(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
path_in(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tmpdir, name);
}

static struct pr_key *
key_from_hex(const char *seedhex)
{
	uint8_t seed[32];
	struct pr_key *k = NULL;

	assert_int_equal(pr_hex_decode(seedhex, 64, seed, 32), 0);
	assert_int_equal(pr_key_from_seed(seed, &k), 0);
	return k;
}

static void
test_rfc8032_vectors(void **state)
{
	const char *seeds[] = {t1_seed, t2_seed};
	const char *pubs[] = {t1_pub, t2_pub};
	const char *sigs[] = {t1_sig, t2_sig};
	static const uint8_t msg2[] = {0x72};
	uint8_t sig[64], want[64];
	char hex[129];
	struct pr_key *k;
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		k = key_from_hex(seeds[i]);
		assert_true(pr_key_is_private(k));
		pr_hex_encode(pr_key_raw_public(k), 32, hex);
		assert_string_equal(hex, pubs[i]);
		assert_int_equal(
		    pr_key_sign(k, msg2, (size_t)i, sig), 0); /* "" or 0x72 */
		assert_int_equal(pr_hex_decode(sigs[i], 128, want, 64), 0);
		assert_memory_equal(sig, want, 64);
		assert_int_equal(pr_key_verify(k, msg2, (size_t)i, sig, 64), 0);
		pr_key_free(k);
	}
}

static void
test_sign_verify_tamper(void **state)
{
	struct pr_key *k, *pub;
	uint8_t sig[64], msg[100];

	(void)state;
	memset(msg, 'm', sizeof(msg));
	assert_int_equal(pr_key_generate(&k), 0);
	assert_int_equal(pr_key_public(k, &pub), 0);
	assert_false(pr_key_is_private(pub));
	assert_int_equal(pr_key_sign(k, msg, sizeof(msg), sig), 0);
	assert_int_equal(pr_key_verify(pub, msg, sizeof(msg), sig, 64), 0);
	/* Tampered message, tampered signature, wrong lengths. */
	msg[50] ^= 1;
	assert_int_equal(
	    pr_key_verify(pub, msg, sizeof(msg), sig, 64), PR_ESIG);
	msg[50] ^= 1;
	sig[10] ^= 0x80;
	assert_int_equal(
	    pr_key_verify(pub, msg, sizeof(msg), sig, 64), PR_ESIG);
	sig[10] ^= 0x80;
	assert_int_equal(
	    pr_key_verify(pub, msg, sizeof(msg), sig, 63), PR_ESIG);
	assert_int_equal(pr_key_verify(pub, msg, 99, sig, 64), PR_ESIG);
	/* A public key cannot sign. */
	assert_int_equal(pr_key_sign(pub, msg, sizeof(msg), sig), PR_EKEY);
	pr_key_free(pub);
	pr_key_free(k);
}

static void
test_keyids(void **state)
{
	struct pr_key *k;
	struct pr_buf b = PR_BUF_INIT;
	uint32_t id;

	(void)state;
	k = key_from_hex(t1_seed);
	assert_string_equal(pr_key_keyid(k), t1_keyid);
	assert_int_equal(strlen(pr_key_keyid(k)), PR_KEY_KEYID_LEN);
	assert_int_equal(
	    pr_key_note_id("example.com/log", 15, pr_key_raw_public(k), &id),
	    0);
	assert_int_equal(id, 0xcc714670);
	assert_int_equal(pr_key_vkey_format(k, "example.com/log", &b), 0);
	assert_string_equal((char *)b.data, t1_vkey);
	pr_buf_reset(&b);
	assert_int_equal(pr_key_vkey_format(k, "bad name", &b), PR_EINVAL);
	assert_int_equal(b.len, 0);
	pr_buf_free(&b);
	pr_key_free(k);
}

static void
test_raw_and_pem_roundtrip(void **state)
{
	struct pr_key *k, *p1, *p2;
	struct pr_buf pem = PR_BUF_INIT;
	uint8_t sig[64];

	(void)state;
	assert_int_equal(pr_key_generate(&k), 0);
	assert_int_equal(pr_key_from_raw_public(pr_key_raw_public(k), &p1), 0);
	assert_memory_equal(pr_key_raw_public(p1), pr_key_raw_public(k), 32);
	assert_int_equal(pr_key_public_pem(k, &pem), 0);
	assert_non_null(strstr((char *)pem.data, "BEGIN PUBLIC KEY"));
	assert_int_equal(
	    pr_key_from_public_pem((char *)pem.data, pem.len, &p2), 0);
	assert_string_equal(pr_key_keyid(p2), pr_key_keyid(k));
	assert_int_equal(pr_key_sign(k, (const uint8_t *)"x", 1, sig), 0);
	assert_int_equal(
	    pr_key_verify(p2, (const uint8_t *)"x", 1, sig, 64), 0);
	assert_int_equal(
	    pr_key_from_public_pem("garbage", 7, &p2 /* kept */), PR_EKEY);
	pr_buf_free(&pem);
	pr_key_free(p1);
	pr_key_free(p2);
	pr_key_free(k);
}

static unsigned wipe_calls;
static size_t wipe_bytes;
static int wipe_dirty;

static void
wipe_check(const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	wipe_calls++;
	wipe_bytes += len;
	for (i = 0; i < len; i++)
		if (b[i] != 0)
			wipe_dirty = 1;
}

static void
wipe_reset(void)
{
	wipe_calls = 0;
	wipe_bytes = 0;
	wipe_dirty = 0;
	pr_key_wipe_hook = wipe_check;
}

static void
test_private_file_roundtrip(void **state)
{
	char path[300];
	struct pr_key *k, *k2;
	struct stat st;

	(void)state;
	path_in(path, sizeof(path), "roundtrip.key");
	k = key_from_hex(t1_seed);
	wipe_reset();
	assert_int_equal(pr_key_save_private(k, path), 0);
	assert_true(wipe_calls >= 1 && wipe_bytes > 0 && !wipe_dirty);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	wipe_reset();
	assert_int_equal(pr_key_load_private(path, &k2), 0);
	assert_true(wipe_calls >= 1 && wipe_bytes >= PR_KEY_FILE_MAX);
	assert_false(wipe_dirty);
	pr_key_wipe_hook = NULL;
	assert_true(pr_key_is_private(k2));
	assert_string_equal(pr_key_keyid(k2), t1_keyid);
	pr_key_free(k2);
	/* Never overwritten. */
	assert_int_equal(pr_key_save_private(k, path), PR_EEXIST);
	pr_key_free(k);
}

static void
test_private_file_permissions(void **state)
{
	static const mode_t refused[] = {0644, 0640, 0604, 0660, 0610, 0601};
	static const mode_t accepted[] = {0600, 0400};
	char path[300], want[400];
	struct pr_key *k, *k2 = NULL;
	size_t i;
	int rc;

	(void)state;
	path_in(path, sizeof(path), "perm.key");
	assert_int_equal(pr_key_generate(&k), 0);
	assert_int_equal(pr_key_save_private(k, path), 0);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(chmod(path, refused[i]), 0);
		wipe_reset();
		rc = pr_key_load_private(path, &k2);
		assert_int_equal(rc, PR_EKEYPERM);
		assert_null(k2);
		snprintf(want, sizeof(want), "chmod 600 %s", path);
		assert_non_null(strstr(pr_errmsg(rc), want));
		assert_true(wipe_calls >= 1 && !wipe_dirty);
	}
	pr_key_wipe_hook = NULL;
	for (i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		assert_int_equal(chmod(path, accepted[i]), 0);
		assert_int_equal(pr_key_load_private(path, &k2), 0);
		assert_string_equal(pr_key_keyid(k2), pr_key_keyid(k));
		pr_key_free(k2);
		k2 = NULL;
	}
	pr_key_free(k);
}

static void
write_file(const char *path, mode_t mode, const void *p, size_t len)
{
	FILE *f;

	unlink(path);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void
test_private_file_bad_contents(void **state)
{
	char path[300], pubpath[300];
	struct pr_key *k, *k2 = NULL;
	struct pr_buf pem = PR_BUF_INIT;
	EVP_PKEY *pkey;
	BIO *bio;
	char *data, big[PR_KEY_FILE_MAX + 10];
	long n;
	uint8_t seed[32];

	(void)state;
	path_in(path, sizeof(path), "bad.key");
	path_in(pubpath, sizeof(pubpath), "pub.pem");
	/* Garbage, wiped on the failure path too. */
	write_file(path, 0600, "not a key\n", 10);
	wipe_reset();
	assert_int_equal(pr_key_load_private(path, &k2), PR_EKEY);
	assert_true(wipe_calls >= 1 && !wipe_dirty);
	pr_key_wipe_hook = NULL;
	/* A public key is not a private key. */
	assert_int_equal(pr_key_generate(&k), 0);
	assert_int_equal(pr_key_public_pem(k, &pem), 0);
	write_file(path, 0600, pem.data, pem.len);
	assert_int_equal(pr_key_load_private(path, &k2), PR_EKEY);
	/* Encrypted PKCS#8 is refused without prompting. */
	assert_int_equal(pr_hex_decode(t1_seed, 64, seed, 32), 0);
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	assert_non_null(pkey);
	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_PKCS8PrivateKey(
	                     bio, pkey, EVP_aes_256_cbc(), "pw", 2, NULL, NULL),
	    1);
	n = BIO_get_mem_data(bio, &data);
	write_file(path, 0600, data, (size_t)n);
	assert_int_equal(pr_key_load_private(path, &k2), PR_EKEY);
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	/* Too large, missing, not a regular file. */
	memset(big, 'A', sizeof(big));
	write_file(path, 0600, big, sizeof(big));
	assert_int_equal(pr_key_load_private(path, &k2), PR_ETOOBIG);
	unlink(path);
	assert_int_equal(pr_key_load_private(path, &k2), PR_ENOTFOUND);
	assert_int_equal(pr_key_load_private(tmpdir, &k2), PR_EKEY);
	assert_null(k2);
	/* Public key files. */
	assert_int_equal(pr_key_save_public(k, pubpath), 0);
	assert_int_equal(pr_key_save_public(k, pubpath), PR_EEXIST);
	assert_int_equal(pr_key_load_public(pubpath, &k2), 0);
	assert_false(pr_key_is_private(k2));
	assert_string_equal(pr_key_keyid(k2), pr_key_keyid(k));
	assert_int_equal(pr_key_save_private(k2, path), PR_EKEY);
	pr_key_free(k2);
	pr_buf_free(&pem);
	pr_key_free(k);
}

static void
test_name_rules(void **state)
{
	static const char *good[] = {"example.com/foo", "a", "log-1_x.y/z",
	    "\xc3\xbcml\xc3\xa4ut", "x=y,z"};
	static const char *bad[] = {"", "a b", "a+b", "a\tb", "a\nb",
	    "a\xc2\xa0"
	    "b",
	    "a\xe3\x80\x80"
	    "b",
	    "a\xe2\x80\x83"
	    "b",
	    "a\xe2\x80\xa8"
	    "b",
	    "\xff", "\xc0\xaf", "\xed\xa0\x80", "a\x01", "\xc3", "a\x7f\x1f",
	    "\xc2\x85"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(pr_key_name_valid(good[i], strlen(good[i])));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pr_key_name_valid(bad[i], strlen(bad[i])))
			fail_msg("name %zu accepted", i);
}

static void
test_vkey_parse(void **state)
{
	static const char *vec =
	    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnK"
	    "v3U2k";
	static const char *bad[] = {
	    "",
	    "example.com/log",
	    "example.com/log+cc714670",
	    "example.com/log+cc714670+",
	    "+cc714670+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea",
	    "example.com/log+cc714671+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3"
	    "B1Ea",
	    "example.com/log+CC714670+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3"
	    "B1Ea",
	    "example.com/log+c714670+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B"
	    "1Ea",
	    "example.com/log+0cc714670+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj"
	    "3B1Ea",
	    "example.com/log+cc714670+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3"
	    "B1Ea\n",
	    "example.com/log+cc714670+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3"
	    "B1Ea ",
	    " example.com/log+cc714670+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj"
	    "3B1Ea",
	    "example.com/log+cc714670+AddamAGCsQq31Uv-08lkBzoO4XLz2qYjJa8CGmj3"
	    "B1Ea",
	    "example.com/log+cc714670+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3"
	    "B1E",
	    "example.com/log+cc714670+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3"
	    "B1Ea==",
	    "example.com/log+cc714670+AtdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3"
	    "B1Ea",
	    "example.com/log+cc714670+11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcH"
	    "URo=",
	    "example.com/log+cc714670+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3"
	    "B1EaAA==",
	    "exa mple.com/log+cc714670+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj"
	    "3B1Ea",
	    "example.com/log+cc714670+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3"
	    "B1Eb",
	};
	struct pr_vkey v, v2;
	struct pr_buf b = PR_BUF_INIT;
	size_t i;

	(void)state;
	assert_int_equal(pr_vkey_parse(vec, strlen(vec), &v), 0);
	assert_string_equal(v.name, "example.com/foo");
	assert_int_equal(v.id, 0x530d903a);
	assert_int_equal(pr_key_vkey_format(v.key, v.name, &b), 0);
	assert_string_equal((char *)b.data, vec);
	pr_vkey_clear(&v);
	assert_int_equal(pr_vkey_parse(t1_vkey, strlen(t1_vkey), &v), 0);
	assert_int_equal(v.id, 0xcc714670);
	assert_false(pr_key_is_private(v.key));
	pr_vkey_clear(&v);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&v2, 0, sizeof(v2));
		if (pr_vkey_parse(bad[i], strlen(bad[i]), &v2) == 0)
			fail_msg("bad vkey %zu accepted", i);
		assert_null(v2.name);
		assert_null(v2.key);
	}
	pr_buf_free(&b);
}

static void
test_vkey_from_key(void **state)
{
	struct pr_key *k;
	struct pr_vkey v;

	(void)state;
	k = key_from_hex(t1_seed);
	assert_int_equal(pr_vkey_from_key(k, "example.com/log", &v), 0);
	assert_int_equal(v.id, 0xcc714670);
	assert_false(pr_key_is_private(v.key));
	assert_int_equal(pr_vkey_from_key(k, "a+b", &v), PR_EINVAL);
	pr_vkey_clear(&v);
	assert_null(v.name);
	pr_key_free(k);
}

/* One key verified from several threads at once (the key is shared
 * read-only; each verification copies its context). */
struct mt_arg {
	const struct pr_key *key;
	const uint8_t *sig;
	int errors;
};

static void *
mt_verify(void *p)
{
	struct mt_arg *a = p;
	uint8_t bad[64];
	int i;

	memcpy(bad, a->sig, 64);
	bad[0] ^= 1;
	for (i = 0; i < 300; i++) {
		if (pr_key_verify(
		        a->key, (const uint8_t *)"msg", 3, a->sig, 64) != 0)
			a->errors++;
		if (pr_key_verify(a->key, (const uint8_t *)"msg", 3, bad, 64) !=
		    PR_ESIG)
			a->errors++;
	}
	return NULL;
}

static void
test_verify_threads(void **state)
{
	struct mt_arg args[4];
	pthread_t t[4];
	struct pr_key *k, *pub;
	uint8_t sig[64];
	int i;

	(void)state;
	assert_int_equal(pr_key_generate(&k), 0);
	assert_int_equal(pr_key_public(k, &pub), 0);
	assert_int_equal(pr_key_sign(k, (const uint8_t *)"msg", 3, sig), 0);
	for (i = 0; i < 4; i++) {
		args[i].key = pub;
		args[i].sig = sig;
		args[i].errors = 0;
		assert_int_equal(
		    pthread_create(&t[i], NULL, mt_verify, &args[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(args[i].errors, 0);
	}
	pr_key_free(pub);
	pr_key_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc8032_vectors),
	    cmocka_unit_test(test_sign_verify_tamper),
	    cmocka_unit_test(test_keyids),
	    cmocka_unit_test(test_raw_and_pem_roundtrip),
	    cmocka_unit_test(test_private_file_roundtrip),
	    cmocka_unit_test(test_private_file_permissions),
	    cmocka_unit_test(test_private_file_bad_contents),
	    cmocka_unit_test(test_name_rules),
	    cmocka_unit_test(test_vkey_parse),
	    cmocka_unit_test(test_vkey_from_key),
	    cmocka_unit_test(test_verify_threads),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
