/*
 * Ed25519 keys (RFC 8032) through OpenSSL 3 EVP, key files, key IDs and
 * signed-note verifier keys.
 *
 * This is the one module that touches private keys.  A struct pr_key is
 * opaque and holds either a private key (which can sign and verify) or a
 * public key only.  It is immutable after creation, so one key may be used
 * from several threads at once.  Private key bytes that pass through our
 * buffers (PEM text, file contents) are wiped with OPENSSL_cleanse() on
 * every path, success or failure; OpenSSL keeps the key itself in memory
 * it clears on free.
 *
 * Key files:
 *   private: PKCS#8 PEM ("BEGIN PRIVATE KEY"), created 0600 with O_EXCL
 *            (never overwritten); refused with PR_EKEYPERM when the file
 *            grants any permission to group or others.
 *   public:  SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY").
 *
 * Identifiers:
 *   DSSE keyid     lower-case hex SHA-256 of the raw 32-byte public key
 *                  (64 characters).
 *   note key ID    SHA-256(name || 0x0A || 0x01 || public key)[:4] read as
 *                  a big-endian uint32 (C2SP signed-note, Ed25519).
 *   verifier key   "name+hexkeyid+base64(0x01 || public key)", e.g.
 *                  example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2L...
 *
 * On failure functions return a negative PR_E* code and record a detail
 * message that pr_errmsg() (proto/errmsg.h) returns.
 */
#ifndef PR_KEY_H
#define PR_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"

#define PR_KEY_PUB_LEN 32
#define PR_KEY_SEED_LEN 32
#define PR_KEY_SIG_LEN 64
/* Hex DSSE keyid, without the NUL. */
#define PR_KEY_KEYID_LEN 64
/* Largest key file read (PEM text). */
#define PR_KEY_FILE_MAX 16384

struct pr_key;

/* Generate a new private key. */
int pr_key_generate(struct pr_key **out);
/* Private key from a raw 32-byte RFC 8032 seed (the caller wipes seed). */
int pr_key_from_seed(const uint8_t seed[PR_KEY_SEED_LEN], struct pr_key **out);
/* Public-only key from raw 32 bytes. */
int pr_key_from_raw_public(
    const uint8_t pub[PR_KEY_PUB_LEN], struct pr_key **out);
/* Public-only key from a PEM SubjectPublicKeyInfo in pem[0..len). */
int pr_key_from_public_pem(const char *pem, size_t len, struct pr_key **out);
/* Public-only copy of k (k may be private or public). */
int pr_key_public(const struct pr_key *k, struct pr_key **out);
/* Free k (NULL is fine). */
void pr_key_free(struct pr_key *k);

/* 1 if k holds a private key, else 0. */
int pr_key_is_private(const struct pr_key *k);
/* The raw 32-byte public key; valid as long as k. */
const uint8_t *pr_key_raw_public(const struct pr_key *k);
/* The DSSE keyid: 64 lower-case hex digits, NUL-terminated; valid as long
 * as k. */
const char *pr_key_keyid(const struct pr_key *k);

/*
 * Write k's private key as PKCS#8 PEM to a new file path, mode 0600.
 * PR_EEXIST if path exists (nothing is overwritten), PR_EKEY if k is
 * public-only, PR_EIO / PR_ESYS on I/O failure (the partial file is
 * removed).
 */
int pr_key_save_private(const struct pr_key *k, const char *path);
/*
 * Load a private key from path.  PR_EKEYPERM if the file grants any
 * permission to group or others (the message says "chmod 600 path"),
 * PR_EKEY if it holds no Ed25519 private key (encrypted keys included).
 */
int pr_key_load_private(const char *path, struct pr_key **out);
/* Write k's public key as PEM to a new file path, mode 0644 (O_EXCL). */
int pr_key_save_public(const struct pr_key *k, const char *path);
/* Load a public key (PEM) from path. */
int pr_key_load_public(const char *path, struct pr_key **out);
/* Append k's public key as PEM to out. */
int pr_key_public_pem(const struct pr_key *k, struct pr_buf *out);

/*
 * Sign msg with a private key: sig receives PR_KEY_SIG_LEN bytes.
 * PR_EKEY if k is public-only.
 */
int pr_key_sign(const struct pr_key *k, const uint8_t *msg, size_t len,
    uint8_t sig[PR_KEY_SIG_LEN]);
/*
 * Verify an Ed25519 signature.  0 if it holds, PR_ESIG if not (a
 * signature that is not PR_KEY_SIG_LEN bytes included), PR_ECRYPTO if
 * the library failed to start.  Strict RFC 8032 verification: S < L,
 * canonical encodings, no small-order public key or R.  Thread-safe.
 */
int pr_key_verify(const struct pr_key *k, const uint8_t *msg, size_t len,
    const uint8_t *sig, size_t siglen);

/*
 * Signed-note key names: non-empty valid UTF-8 with no Unicode space, no
 * '+' and no control character.  1 if valid, else 0.
 */
int pr_key_name_valid(const char *name, size_t len);
/* Signed-note Ed25519 key ID of (name, pub) into *id. */
int pr_key_note_id(const char *name, size_t namelen,
    const uint8_t pub[PR_KEY_PUB_LEN], uint32_t *id);
/* Append the verifier key string of (name, k) to out; PR_EINVAL for an
 * invalid name. */
int pr_key_vkey_format(
    const struct pr_key *k, const char *name, struct pr_buf *out);

/*
 * A signed-note verifier: key name, key ID and public key.  The struct
 * owns name and key; pr_vkey_clear() releases them.  Arrays of these are
 * what note and checkpoint verification take.
 */
struct pr_vkey {
	char *name;
	uint32_t id;
	struct pr_key *key;
};

/*
 * Parse a verifier key string s[0..len) strictly: a valid name, '+',
 * exactly 8 lower-case hex digits, '+', canonical padded standard base64
 * of 33 bytes starting with 0x01 (Ed25519); the key ID must match.
 * Nothing may follow.  On success *out is filled (call pr_vkey_clear()).
 */
int pr_vkey_parse(const char *s, size_t len, struct pr_vkey *out);
/* Verifier for (name, k): a public-only copy of k is taken. */
int pr_vkey_from_key(
    const struct pr_key *k, const char *name, struct pr_vkey *out);
void pr_vkey_clear(struct pr_vkey *v);

/*
 * Test seam: when set, called right after each buffer that held private
 * key material has been wiped, with the buffer still allocated, so tests
 * can check that it is all zeros.  NULL in production.
 */
extern void (*pr_key_wipe_hook)(const void *p, size_t len);

#endif
