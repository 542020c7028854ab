/*
 * sigtool: drives proto/ key, note, checkpoint, DSSE, entry and
 * tlog-proof code from the shell, for interoperability tests against
 * independent implementations.  Exit status 0 on success, 1 on failure
 * (with one line on stderr), 2 on usage errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/buf.h"
#include "proto/dsse.h"
#include "proto/enc.h"
#include "proto/entry.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/key.h"
#include "proto/merkle.h"
#include "proto/note.h"
#include "proto/tproof.h"

static int
die(int rc, const char *what)
{
	fprintf(stderr, "sigtool: %s: %s\n", what, pr_errmsg(rc));
	return 1;
}

static int
read_file(const char *path, struct pr_buf *b)
{
	char chunk[4096];
	size_t n;
	FILE *f;

	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "rb")) == NULL)
		return pr_errmsg_set(PR_ENOTFOUND, "cannot open %s", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (pr_buf_append(b, chunk, n) != 0)
			break;
	if (f != stdin)
		fclose(f);
	if (b->data == NULL)
		pr_buf_append(b, "", 0);
	return 0;
}

/* keygen KEYFILE NAME: write a new key, print its verifier key. */
static int
cmd_keygen(int argc, char **argv)
{
	struct pr_buf v = PR_BUF_INIT;
	struct pr_key *k;
	int rc;

	if (argc != 3)
		return 2;
	if ((rc = pr_key_generate(&k)) != 0 ||
	    (rc = pr_key_save_private(k, argv[1])) != 0 ||
	    (rc = pr_key_vkey_format(k, argv[2], &v)) != 0)
		return die(rc, "keygen");
	printf("%s\n", (char *)v.data);
	pr_buf_free(&v);
	pr_key_free(k);
	return 0;
}

/* info KEYFILE NAME: print vkey, raw public key hex and DSSE keyid. */
static int
cmd_info(int argc, char **argv)
{
	struct pr_buf v = PR_BUF_INIT;
	struct pr_key *k;
	char hex[65];
	int rc;

	if (argc != 3)
		return 2;
	if ((rc = pr_key_load_private(argv[1], &k)) != 0 ||
	    (rc = pr_key_vkey_format(k, argv[2], &v)) != 0)
		return die(rc, argv[1]);
	pr_hex_encode(pr_key_raw_public(k), PR_KEY_PUB_LEN, hex);
	printf("vkey %s\npub %s\nkeyid %s\n", (char *)v.data, hex,
	    pr_key_keyid(k));
	pr_buf_free(&v);
	pr_key_free(k);
	return 0;
}

/* checkpoint-sign KEYFILE ORIGIN SIZE ROOTHEX */
static int
cmd_checkpoint_sign(int argc, char **argv)
{
	struct pr_checkpoint cp;
	struct pr_buf out = PR_BUF_INIT;
	struct pr_key *k;
	int rc;

	if (argc != 5)
		return 2;
	memset(&cp, 0, sizeof(cp));
	cp.origin = argv[2];
	cp.size = strtoull(argv[3], NULL, 10);
	if (pr_hex_decode(argv[4], strlen(argv[4]), cp.root, 32) != 0)
		return die(PR_EFORMAT, "root hash");
	if ((rc = pr_key_load_private(argv[1], &k)) != 0 ||
	    (rc = pr_checkpoint_sign(&cp, argv[2], k, &out)) != 0)
		return die(rc, "checkpoint-sign");
	fwrite(out.data, 1, out.len, stdout);
	pr_buf_free(&out);
	pr_key_free(k);
	return 0;
}

/* note-verify VKEY FILE [ORIGIN]: verify a note (a checkpoint when ORIGIN
 * is given) and print its text. */
static int
cmd_note_verify(int argc, char **argv)
{
	struct pr_buf in = PR_BUF_INIT;
	struct pr_checkpoint cp;
	struct pr_note *n;
	struct pr_vkey v;
	int rc;

	if (argc != 3 && argc != 4)
		return 2;
	if ((rc = pr_vkey_parse(argv[1], strlen(argv[1]), &v)) != 0)
		return die(rc, "vkey");
	if ((rc = read_file(argv[2], &in)) != 0)
		return die(rc, argv[2]);
	if (argc == 4) {
		rc = pr_checkpoint_open(
		    (char *)in.data, in.len, argv[3], &v, 1, &cp);
		if (rc != 0)
			return die(rc, "checkpoint");
		printf("origin %s\nsize %llu\n", cp.origin,
		    (unsigned long long)cp.size);
		pr_checkpoint_clear(&cp);
	} else {
		if ((rc = pr_note_parse((char *)in.data, in.len, &n)) != 0 ||
		    (rc = pr_note_verify(n, &v, 1, NULL)) != 0)
			return die(rc, "note");
		fwrite(n->text, 1, n->textlen, stdout);
		pr_note_free(n);
	}
	pr_vkey_clear(&v);
	pr_buf_free(&in);
	return 0;
}

/* dsse-sign PAYLOADTYPE PAYLOADFILE KEYFILE...: print the envelope. */
static int
cmd_dsse_sign(int argc, char **argv)
{
	struct pr_buf in = PR_BUF_INIT, out = PR_BUF_INIT;
	struct pr_dsse *e;
	struct pr_key *k;
	int i, rc;

	if (argc < 4)
		return 2;
	if ((rc = read_file(argv[2], &in)) != 0 ||
	    (rc = pr_dsse_new(argv[1], in.data, in.len, &e)) != 0)
		return die(rc, "dsse-sign");
	for (i = 3; i < argc; i++) {
		if ((rc = pr_key_load_private(argv[i], &k)) != 0 ||
		    (rc = pr_dsse_sign(e, k)) != 0)
			return die(rc, argv[i]);
		pr_key_free(k);
	}
	if ((rc = pr_dsse_serialize(e, &out)) != 0)
		return die(rc, "dsse-sign");
	printf("%s\n", (char *)out.data);
	pr_dsse_free(e);
	pr_buf_free(&in);
	pr_buf_free(&out);
	return 0;
}

/* dsse-verify ENVFILE PUBHEX...: signature i must verify with key i. */
static int
cmd_dsse_verify(int argc, char **argv)
{
	struct pr_buf in = PR_BUF_INIT;
	struct pr_dsse_error err;
	struct pr_dsse *e;
	struct pr_key *k;
	uint8_t pub[32];
	int i, rc;

	if (argc < 3)
		return 2;
	if ((rc = read_file(argv[1], &in)) != 0)
		return die(rc, argv[1]);
	if ((rc = pr_dsse_parse((char *)in.data, in.len, &e, &err)) != 0) {
		fprintf(stderr, "sigtool: %s %s: %s\n", err.code, err.field,
		    err.message);
		return 1;
	}
	if ((size_t)(argc - 2) != e->nsigs)
		return die(PR_EINVAL, "one public key per signature");
	for (i = 2; i < argc; i++) {
		if (pr_hex_decode(argv[i], strlen(argv[i]), pub, 32) != 0)
			return die(PR_EFORMAT, "public key hex");
		if ((rc = pr_key_from_raw_public(pub, &k)) != 0 ||
		    (rc = pr_dsse_verify(e, (size_t)(i - 2), k)) != 0)
			return die(rc, "dsse-verify");
		if (e->sigs[i - 2].keyid != NULL &&
		    strcmp(e->sigs[i - 2].keyid, pr_key_keyid(k)) != 0)
			return die(PR_EKEY, "keyid is not the DSSE keyid");
		pr_key_free(k);
	}
	printf("ok %zu signatures\n", e->nsigs);
	pr_dsse_free(e);
	pr_buf_free(&in);
	return 0;
}

/* entry ENVFILE LOGTIME_MS: print the entry hex and its hashes. */
static int
cmd_entry(int argc, char **argv)
{
	struct pr_buf in = PR_BUF_INIT, ent = PR_BUF_INIT;
	struct pr_dsse *e;
	pr_hash h;
	char *hex;
	int rc;

	if (argc != 3)
		return 2;
	if ((rc = read_file(argv[1], &in)) != 0 ||
	    (rc = pr_dsse_parse((char *)in.data, in.len, &e, NULL)) != 0 ||
	    (rc = pr_entry_encode(e, strtoull(argv[2], NULL, 10), &ent)) != 0)
		return die(rc, "entry");
	if ((hex = malloc(2 * ent.len + 65)) == NULL)
		return die(PR_ENOMEM, "entry");
	pr_hex_encode(ent.data, ent.len, hex);
	printf("entry %s\n", hex);
	pr_entry_envelope_hash(ent.data, ent.len, h);
	pr_hex_encode(h, 32, hex);
	printf("envelope_hash %s\n", hex);
	pr_merkle_leaf_hash(ent.data, ent.len, h);
	pr_hex_encode(h, 32, hex);
	printf("leaf_hash %s\n", hex);
	free(hex);
	pr_dsse_free(e);
	pr_buf_free(&in);
	pr_buf_free(&ent);
	return 0;
}

/* tproof-demo KEYFILE ORIGIN SIZE INDEX: a proof file for leaf INDEX of a
 * tree of SIZE leaves "entry <i>". */
static uint64_t demo_size;

static int
demo_get(void *ctx, unsigned level, uint64_t index, pr_hash out)
{
	char entry[32];
	pr_hash l, r;

	(void)ctx;
	if (level == 0) {
		snprintf(entry, sizeof(entry), "entry %llu",
		    (unsigned long long)index);
		pr_merkle_leaf_hash((uint8_t *)entry, strlen(entry), out);
		return index < demo_size ? 0 : PR_ENOTFOUND;
	}
	if (demo_get(NULL, level - 1, 2 * index, l) != 0 ||
	    demo_get(NULL, level - 1, 2 * index + 1, r) != 0)
		return PR_ENOTFOUND;
	pr_merkle_node_hash(l, r, out);
	return 0;
}

static int
cmd_tproof_demo(int argc, char **argv)
{
	struct pr_checkpoint cp;
	struct pr_buf note = PR_BUF_INIT, out = PR_BUF_INIT;
	struct pr_tproof p;
	struct pr_key *k;
	int rc;

	if (argc != 5)
		return 2;
	memset(&cp, 0, sizeof(cp));
	memset(&p, 0, sizeof(p));
	demo_size = strtoull(argv[3], NULL, 10);
	p.index = strtoull(argv[4], NULL, 10);
	cp.origin = argv[2];
	cp.size = demo_size;
	if ((rc = pr_key_load_private(argv[1], &k)) != 0 ||
	    (rc = pr_merkle_root(demo_size, demo_get, NULL, cp.root)) != 0 ||
	    (rc = pr_merkle_inclusion_proof(p.index, demo_size, demo_get, NULL,
	         p.proof, &p.nproof)) != 0 ||
	    (rc = pr_checkpoint_sign(&cp, argv[2], k, &note)) != 0)
		return die(rc, "tproof-demo");
	p.checkpoint = (char *)note.data;
	p.checkpointlen = note.len;
	if ((rc = pr_tproof_format(&p, &out)) != 0)
		return die(rc, "tproof-demo");
	fwrite(out.data, 1, out.len, stdout);
	pr_buf_free(&note);
	pr_buf_free(&out);
	pr_key_free(k);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *usage;
} cmds[] = {
    {"keygen", cmd_keygen, "KEYFILE NAME"},
    {"info", cmd_info, "KEYFILE NAME"},
    {"checkpoint-sign", cmd_checkpoint_sign, "KEYFILE ORIGIN SIZE ROOTHEX"},
    {"note-verify", cmd_note_verify, "VKEY FILE [ORIGIN]"},
    {"dsse-sign", cmd_dsse_sign, "PAYLOADTYPE PAYLOADFILE KEYFILE..."},
    {"dsse-verify", cmd_dsse_verify, "ENVFILE PUBHEX..."},
    {"entry", cmd_entry, "ENVFILE LOGTIME_MS"},
    {"tproof-demo", cmd_tproof_demo, "KEYFILE ORIGIN SIZE INDEX"},
};

int
main(int argc, char **argv)
{
	size_t i;
	int rc;

	for (i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0) {
			if ((rc = cmds[i].fn(argc - 1, argv + 1)) == 2)
				fprintf(stderr, "usage: sigtool %s %s\n",
				    cmds[i].name, cmds[i].usage);
			return rc;
		}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(stderr, "usage: sigtool %s %s\n", cmds[i].name,
		    cmds[i].usage);
	return 2;
}
