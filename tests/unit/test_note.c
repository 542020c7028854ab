/* Unit tests: proto/note.c (C2SP signed notes and checkpoints). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/buf.h"
#include "proto/enc.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/key.h"
#include "proto/note.h"

#define DASH "\xe2\x80\x94"

/* The C2SP signed-note example (../shared/vectors/signed-note.txt). */
static const char *vec_vkey =
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
static const char *vec_note =
    "This is an example message.\n"
    "\n" DASH " example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3m"
    "FXmRKuwHjG1Yu72IneyaQM=\n";

/* A witness cosignature line (type 0x04): kept opaque, never verified. */
#define COSIG_LINE                                                             \
	DASH " witness.example "                                               \
	     "AAECAwAAAABlU/EAqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"    \
	     "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqg==\n"

static struct pr_vkey vk;

static int
setup(void **state)
{
	(void)state;
	return pr_vkey_parse(vec_vkey, strlen(vec_vkey), &vk) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	pr_vkey_clear(&vk);
	return 0;
}

static int
open_note(const char *s, const struct pr_vkey *keys, size_t n)
{
	struct pr_note *note;
	int rc;

	if ((rc = pr_note_parse(s, strlen(s), &note)) != 0)
		return rc;
	rc = pr_note_verify(note, keys, n, NULL);
	pr_note_free(note);
	return rc;
}

static void
test_vector_file_matches(void **state)
{
	char buf[4096], *p, *q;
	size_t n;
	FILE *f;

	(void)state;
	if ((f = fopen("../shared/vectors/signed-note.txt", "r")) == NULL)
		skip();
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_non_null(strstr(buf, vec_vkey));
	assert_non_null(p = strstr(buf, "--- note\n"));
	p += 9;
	assert_non_null(q = strstr(p, "--- end"));
	assert_int_equal((size_t)(q - p), strlen(vec_note));
	assert_memory_equal(p, vec_note, strlen(vec_note));
}

static void
test_known_answer(void **state)
{
	struct pr_note *n;
	struct pr_buf out = PR_BUF_INIT;
	unsigned char ok[1] = {0};

	(void)state;
	assert_int_equal(pr_note_parse(vec_note, strlen(vec_note), &n), 0);
	assert_string_equal(n->text, "This is an example message.\n");
	assert_int_equal(n->nsigs, 1);
	assert_string_equal(n->sigs[0].name, "example.com/foo");
	assert_int_equal(n->sigs[0].id, 0x530d903a);
	assert_int_equal(n->sigs[0].siglen, 64);
	assert_int_equal(pr_note_verify(n, &vk, 1, ok), 0);
	assert_int_equal(ok[0], 1);
	assert_int_equal(pr_note_serialize(n, &out), 0);
	assert_string_equal((char *)out.data, vec_note);
	pr_buf_free(&out);
	pr_note_free(n);
}

static void
test_forgeries(void **state)
{
	char buf[512], *p;
	struct pr_vkey other;
	struct pr_key *k;

	(void)state;
	/* Changed text. */
	strcpy(buf, vec_note);
	p = strstr(buf, "message");
	p[1] = 'a';
	assert_int_equal(open_note(buf, &vk, 1), PR_ESIG);
	/* Changed signature byte (keeping canonical base64). */
	strcpy(buf, vec_note);
	p = strstr(buf, "Uw2QOkn8");
	p[20] = p[20] == 'A' ? 'B' : 'A'; /* after the key ID */
	assert_int_equal(open_note(buf, &vk, 1), PR_ESIG);
	/* Same name, another key: unknown signer, so nothing verified. */
	assert_int_equal(pr_key_generate(&k), 0);
	assert_int_equal(pr_vkey_from_key(k, "example.com/foo", &other), 0);
	assert_int_equal(open_note(vec_note, &other, 1), PR_EUNKNOWNKEY);
	/* Same ID under another name is unknown as well. */
	free(other.name);
	assert_non_null(other.name = strdup("example.com/bar"));
	other.id = 0x530d903a;
	assert_int_equal(open_note(vec_note, &other, 1), PR_EUNKNOWNKEY);
	assert_int_equal(open_note(vec_note, NULL, 0), PR_EUNKNOWNKEY);
	pr_vkey_clear(&other);
	pr_key_free(k);
}

static void
test_opaque_and_unknown_signers(void **state)
{
	struct pr_buf in = PR_BUF_INIT, out = PR_BUF_INIT;
	struct pr_note *n;
	unsigned char ok[1];

	(void)state;
	/* Known signature plus a cosignature line from an unknown witness. */
	pr_buf_append_str(&in, vec_note);
	pr_buf_append_str(&in, COSIG_LINE);
	assert_int_equal(pr_note_parse((char *)in.data, in.len, &n), 0);
	assert_int_equal(n->nsigs, 2);
	assert_int_equal(n->sigs[1].id, 0x00010203);
	assert_int_equal(n->sigs[1].siglen, 72);
	assert_int_equal(pr_note_verify(n, &vk, 1, ok), 0);
	assert_int_equal(pr_note_serialize(n, &out), 0);
	assert_int_equal(out.len, in.len);
	assert_memory_equal(out.data, in.data, in.len);
	pr_note_free(n);
	/* The unknown line alone verifies nothing. */
	pr_buf_reset(&in);
	pr_buf_append_str(&in, "This is an example message.\n\n" COSIG_LINE);
	assert_int_equal(pr_note_parse((char *)in.data, in.len, &n), 0);
	assert_int_equal(pr_note_verify(n, &vk, 1, NULL), PR_EUNKNOWNKEY);
	pr_note_free(n);
	pr_buf_free(&in);
	pr_buf_free(&out);
}

static void
test_sign_multi(void **state)
{
	const char *text = "line one\n\nline three after a blank line\n";
	struct pr_key *k1, *k2, *k3;
	struct pr_vkey v[3];
	struct pr_note *n, *m;
	struct pr_buf out = PR_BUF_INIT;
	unsigned char ok[3];

	(void)state;
	assert_int_equal(pr_key_generate(&k1), 0);
	assert_int_equal(pr_key_generate(&k2), 0);
	assert_int_equal(pr_key_generate(&k3), 0);
	assert_int_equal(pr_vkey_from_key(k1, "log.example/a", &v[0]), 0);
	assert_int_equal(pr_vkey_from_key(k2, "witness.example/b", &v[1]), 0);
	assert_int_equal(pr_vkey_from_key(k3, "witness.example/c", &v[2]), 0);
	assert_int_equal(pr_note_new(text, strlen(text), &n), 0);
	assert_int_equal(pr_note_serialize(n, &out), PR_EINVAL);
	assert_int_equal(pr_note_sign(n, "log.example/a", k1), 0);
	assert_int_equal(pr_note_sign(n, "witness.example/b", k2), 0);
	/* Signing again under the same name and key replaces the line. */
	assert_int_equal(pr_note_sign(n, "log.example/a", k1), 0);
	assert_int_equal(n->nsigs, 2);
	assert_int_equal(pr_note_sign(n, "bad name", k1), PR_EINVAL);
	assert_int_equal(pr_note_sign(n, "x", v[2].key), PR_EKEY);
	assert_int_equal(pr_note_serialize(n, &out), 0);
	assert_int_equal(pr_note_parse((char *)out.data, out.len, &m), 0);
	assert_string_equal(m->text, text);
	assert_int_equal(pr_note_verify(m, v, 3, ok), 0);
	assert_int_equal(ok[0], 1);
	assert_int_equal(ok[1], 1);
	assert_int_equal(ok[2], 0);
	/* One known key's bad signature rejects the whole note. */
	m->sigs[1].sig[0] ^= 1;
	assert_int_equal(pr_note_verify(m, v, 3, ok), PR_ESIG);
	assert_int_equal(pr_note_verify(m, v, 1, ok), 0);
	pr_note_free(m);
	pr_note_free(n);
	pr_buf_free(&out);
	pr_vkey_clear(&v[0]);
	pr_vkey_clear(&v[1]);
	pr_vkey_clear(&v[2]);
	pr_key_free(k1);
	pr_key_free(k2);
	pr_key_free(k3);
}

#define SIG64                                                                  \
	"Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH"  \
	"3mFXmRKuwHjG1Yu72IneyaQM="

static void
test_note_strictness(void **state)
{
	static const char *bad[] = {
	    "",
	    "text\n",
	    "text\n" DASH " a " SIG64 "\n",
	    "text\n\n",
	    "text\n\n" DASH " a " SIG64,
	    "text\n\n-- a " SIG64 "\n",
	    "text\n\n" DASH "a " SIG64 "\n",
	    "text\n\n" DASH " a  " SIG64 "\n",
	    "text\n\n" DASH "  a " SIG64 "\n",
	    "text\n\n" DASH " a+b " SIG64 "\n",
	    "text\n\n" DASH " a\xc2\xa0"
	    "b " SIG64 "\n",
	    "text\n\n" DASH " a " SIG64 " \n",
	    "text\n\n" DASH " a AAAAAA==\n",
	    "text\n\n" DASH " a AAAA\n",
	    "text\n\n" DASH " a \n",
	    "text\n\n" DASH " a\n",
	    "text\n\n" DASH " a Uw2QOkn8!rV1\n",
	    "text\n\n" DASH " a AAAAAB==\n",
	    "te\txt\n\n" DASH " a " SIG64 "\n",
	    "text\r\n\n" DASH " a " SIG64 "\n",
	    "t\xffxt\n\n" DASH " a " SIG64 "\n",
	    "t\xed\xa0\x80xt\n\n" DASH " a " SIG64 "\n",
	    "text\n\n" DASH " a " SIG64 "\n\n",
	    "text\n\n" DASH " a " SIG64 "\nnot a signature\n",
	    "text\n\n\xe2\x80\x93 a " SIG64 "\n",
	};
	struct pr_buf b = PR_BUF_INIT;
	struct pr_note *n;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = NULL;
		rc = pr_note_parse(bad[i], strlen(bad[i]), &n);
		if (rc == 0)
			fail_msg("bad note %zu accepted", i);
		assert_true(rc == PR_EFORMAT || rc == PR_ETOOBIG);
		assert_null(n);
		assert_true(strlen(pr_errmsg(rc)) > 0);
	}
	/* A NUL byte inside. */
	{
		static const char nul[] = "te\0xt\n\n" DASH " a " SIG64 "\n";

		assert_int_equal(
		    pr_note_parse(nul, sizeof(nul) - 1, &n), PR_EFORMAT);
	}
	/* 16 signatures are accepted, 17 are not. */
	pr_buf_append_str(&b, "text\n\n");
	for (i = 0; i < 16; i++)
		pr_buf_append_str(&b, DASH " a " SIG64 "\n");
	assert_int_equal(pr_note_parse((char *)b.data, b.len, &n), 0);
	assert_int_equal(n->nsigs, 16);
	pr_note_free(n);
	pr_buf_append_str(&b, DASH " a " SIG64 "\n");
	assert_int_equal(pr_note_parse((char *)b.data, b.len, &n), PR_ETOOBIG);
	/* Oversized. */
	pr_buf_reset(&b);
	while (b.len <= PR_NOTE_MAX_SIZE)
		pr_buf_append_str(&b, "0123456789abcdef\n");
	pr_buf_append_str(&b, "\n" DASH " a " SIG64 "\n");
	assert_int_equal(pr_note_parse((char *)b.data, b.len, &n), PR_ETOOBIG);
	pr_buf_free(&b);
	/* Text rules for new notes. */
	assert_int_equal(pr_note_new("no newline", 10, &n), PR_EFORMAT);
	assert_int_equal(pr_note_new("", 0, &n), PR_EFORMAT);
	assert_int_equal(pr_note_new("a\x01\n", 3, &n), PR_EFORMAT);
}

static void
test_last_blank_line_splits(void **state)
{
	const char *s = "a\n\nb\n\n" DASH " a " SIG64 "\n";
	struct pr_note *n;

	(void)state;
	assert_int_equal(pr_note_parse(s, strlen(s), &n), 0);
	assert_string_equal(n->text, "a\n\nb\n");
	pr_note_free(n);
}

/* Checkpoints */

#define ROOT64 "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="

static const char *cp_text = "example.com/behind-the-sofa\n"
                             "20852163\n"
                             "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

static void
test_checkpoint_parse_format(void **state)
{
	struct pr_checkpoint cp;
	struct pr_buf out = PR_BUF_INIT, root = PR_BUF_INIT;
	const char *ext = "example.com/behind-the-sofa\n0\n"
	                  "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
	                  "ext one\next two\n";

	(void)state;
	assert_int_equal(pr_checkpoint_parse(cp_text, strlen(cp_text), &cp), 0);
	assert_string_equal(cp.origin, "example.com/behind-the-sofa");
	assert_int_equal(cp.size, 20852163);
	assert_int_equal(
	    pr_b64_decode(&root,
	        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", 44, PR_B64_STD),
	    0);
	assert_memory_equal(cp.root, root.data, 32);
	assert_null(cp.ext);
	assert_int_equal(pr_checkpoint_format(&cp, &out), 0);
	assert_string_equal((char *)out.data, cp_text);
	pr_checkpoint_clear(&cp);
	pr_buf_reset(&out);
	assert_int_equal(pr_checkpoint_parse(ext, strlen(ext), &cp), 0);
	assert_int_equal(cp.size, 0);
	assert_string_equal(cp.ext, "ext one\next two\n");
	assert_int_equal(pr_checkpoint_format(&cp, &out), 0);
	assert_string_equal((char *)out.data, ext);
	pr_checkpoint_clear(&cp);
	pr_buf_reset(&out);
	{
		const char *max = "o\n18446744073709551615\n" ROOT64 "\n";

		assert_int_equal(pr_checkpoint_parse(max, strlen(max), &cp), 0);
	}
	assert_true(cp.size == UINT64_MAX);
	pr_checkpoint_clear(&cp);
	pr_buf_free(&out);
	pr_buf_free(&root);
}

static void
test_checkpoint_strictness(void **state)
{
	static const char *bad[] = {
	    "",
	    "o\n",
	    "o\n1\n",
	    "o\n1\n" ROOT64,
	    "\n1\n" ROOT64 "\n",
	    "o\n01\n" ROOT64 "\n",
	    "o\n00\n" ROOT64 "\n",
	    "o\n-1\n" ROOT64 "\n",
	    "o\n+1\n" ROOT64 "\n",
	    "o\n 1\n" ROOT64 "\n",
	    "o\n1 \n" ROOT64 "\n",
	    "o\n0x10\n" ROOT64 "\n",
	    "o\n\n" ROOT64 "\n",
	    "o\n18446744073709551616\n" ROOT64 "\n",
	    "o\n99999999999999999999\n" ROOT64 "\n",
	    "o\n1\n\n",
	    "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",
	    "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n",
	    "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2IA\n",
	    "o\n1\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n",
	    "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",
	    "o\n1\n" ROOT64 "\n\n",
	    "o\n1\n" ROOT64 "\next\n\nmore\n",
	    "o\n1\n" ROOT64 "\next",
	    "o\t\n1\n" ROOT64 "\n",
	};
	struct pr_checkpoint cp;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&cp, 0, sizeof(cp));
		if (pr_checkpoint_parse(bad[i], strlen(bad[i]), &cp) == 0)
			fail_msg("bad checkpoint %zu accepted", i);
		assert_null(cp.origin);
	}
}

static void
test_checkpoint_sign_open(void **state)
{
	struct pr_checkpoint cp, got;
	struct pr_buf signed_cp = PR_BUF_INIT;
	struct pr_key *k;
	struct pr_vkey v;
	char *p;

	(void)state;
	memset(&cp, 0, sizeof(cp));
	assert_int_equal(pr_key_generate(&k), 0);
	assert_int_equal(pr_vkey_from_key(k, "log.example/procured", &v), 0);
	assert_non_null(cp.origin = strdup("log.example/procured"));
	cp.size = 12345;
	memset(cp.root, 0xab, 32);
	assert_int_equal(
	    pr_checkpoint_sign(&cp, "log.example/procured", k, &signed_cp), 0);
	assert_int_equal(
	    pr_checkpoint_open((char *)signed_cp.data, signed_cp.len,
	        "log.example/procured", &v, 1, &got),
	    0);
	assert_int_equal(got.size, 12345);
	assert_memory_equal(got.root, cp.root, 32);
	pr_checkpoint_clear(&got);
	/* Wrong origin, wrong key, tampered size. */
	assert_int_equal(pr_checkpoint_open((char *)signed_cp.data,
	                     signed_cp.len, "other.example", &v, 1, &got),
	    PR_EFORMAT);
	assert_non_null(strstr(pr_errmsg(PR_EFORMAT), "origin"));
	assert_int_equal(pr_checkpoint_open((char *)signed_cp.data,
	                     signed_cp.len, NULL, &vk, 1, &got),
	    PR_EUNKNOWNKEY);
	p = strstr((char *)signed_cp.data, "12345");
	p[4] = '6';
	assert_int_equal(pr_checkpoint_open((char *)signed_cp.data,
	                     signed_cp.len, NULL, &v, 1, &got),
	    PR_ESIG);
	pr_checkpoint_clear(&cp);
	pr_buf_free(&signed_cp);
	pr_vkey_clear(&v);
	pr_key_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vector_file_matches),
	    cmocka_unit_test(test_known_answer),
	    cmocka_unit_test(test_forgeries),
	    cmocka_unit_test(test_opaque_and_unknown_signers),
	    cmocka_unit_test(test_sign_multi),
	    cmocka_unit_test(test_note_strictness),
	    cmocka_unit_test(test_last_blank_line_splits),
	    cmocka_unit_test(test_checkpoint_parse_format),
	    cmocka_unit_test(test_checkpoint_strictness),
	    cmocka_unit_test(test_checkpoint_sign_open),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
