/*
 * dbdigest: a digest of every named database of an LMDB environment, to
 * tell which stored data a change to data.mdb altered.
 *
 *	dbdigest DIR
 *
 * Prints one line a database, "NAME RECORDS SHA256", the hash over every
 * key and value in key order (each length-prefixed).  Exits 0, or 1 with
 * "error ..." if the environment or a database cannot be read.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <lmdb.h>
#include <openssl/evp.h>

static void
feed(EVP_MD_CTX *md, const MDB_val *v)
{
	uint8_t len[8];
	uint64_t n = v->mv_size;
	int i;

	for (i = 7; i >= 0; i--, n >>= 8)
		len[i] = (uint8_t)n;
	EVP_DigestUpdate(md, len, sizeof(len));
	EVP_DigestUpdate(md, v->mv_data, v->mv_size);
}

static int
digest_db(MDB_txn *txn, const char *name)
{
	EVP_MD_CTX *md;
	MDB_cursor *c;
	MDB_dbi dbi;
	MDB_val k, v;
	uint8_t h[32];
	unsigned long long n = 0;
	int rc, i;

	if ((rc = mdb_dbi_open(txn, name, 0, &dbi)) != 0 ||
	    (rc = mdb_cursor_open(txn, dbi, &c)) != 0) {
		printf(
		    "error %s: %s\n", name ? name : "(main)", mdb_strerror(rc));
		return 1;
	}
	md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		feed(md, &k);
		feed(md, &v);
		n++;
	}
	EVP_DigestFinal_ex(md, h, NULL);
	EVP_MD_CTX_free(md);
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND) {
		printf(
		    "error %s: %s\n", name ? name : "(main)", mdb_strerror(rc));
		return 1;
	}
	printf("%s %llu ", name ? name : "(main)", n);
	for (i = 0; i < 32; i++)
		printf("%02x", h[i]);
	printf("\n");
	return 0;
}

int
main(int argc, char **argv)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_dbi main_dbi;
	MDB_val k, v;
	char names[64][128];
	int rc, n = 0, i, bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: dbdigest DIR\n");
		return 2;
	}
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 64)) != 0 ||
	    (rc = mdb_env_open(env, argv[1], MDB_RDONLY | MDB_NOLOCK, 0)) !=
	        0 ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0) {
		printf("error open: %s\n", mdb_strerror(rc));
		return 1;
	}
	if ((rc = mdb_dbi_open(txn, NULL, 0, &main_dbi)) != 0 ||
	    (rc = mdb_cursor_open(txn, main_dbi, &c)) != 0) {
		printf("error main: %s\n", mdb_strerror(rc));
		return 1;
	}
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0 && n < 64) {
		if (k.mv_size >= sizeof(names[0]) ||
		    memchr(k.mv_data, '\0', k.mv_size) != NULL) {
			printf("error main: bad database name\n");
			return 1;
		}
		memcpy(names[n], k.mv_data, k.mv_size);
		names[n++][k.mv_size] = '\0';
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND && rc != 0) {
		printf("error main: %s\n", mdb_strerror(rc));
		return 1;
	}
	bad |= digest_db(txn, NULL);
	for (i = 0; i < n; i++)
		bad |= digest_db(txn, names[i]);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return bad;
}
