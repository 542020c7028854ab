/*
 * One error space for all of procured.
 *
 * Functions return int: 0 on success, a negative PR_E* code on failure.
 * Codes are far below errno's range so that the two are never confused;
 * LMDB and OpenSSL errors are translated at the boundary, in the one file
 * that includes their headers.  pr_strerror() gives a sentence fragment
 * suitable for logs and one-line CLI errors.
 */
#ifndef PR_ERR_H
#define PR_ERR_H

/* X(name, value, message): one row a code; add new codes at the end. */
#define PR_ERRORS(X)                                                           \
	X(PR_ENOMEM, -20000, "out of memory")                                  \
	X(PR_EINVAL, -20001, "invalid argument")                               \
	X(PR_EFORMAT, -20002, "malformed input")                               \
	X(PR_ERANGE, -20003, "value out of range")                             \
	X(PR_ETOOBIG, -20004, "input too large")                               \
	X(PR_ETRUNC, -20005, "input truncated")                                \
	X(PR_EVERSION, -20006, "unsupported version")                          \
	X(PR_ECRYPTO, -20007, "cryptographic library failure")                 \
	X(PR_ESIG, -20008, "signature verification failed")                    \
	X(PR_EKEY, -20009, "unusable key")                                     \
	X(PR_EKEYPERM, -20010, "key file is readable by group or others")      \
	X(PR_EUNKNOWNKEY, -20011, "no known key for this signature")           \
	X(PR_EPROOF, -20012, "proof does not verify")                          \
	X(PR_EIO, -20013, "input/output error")                                \
	X(PR_ENOTFOUND, -20014, "not found")                                   \
	X(PR_EEXIST, -20015, "already exists")                                 \
	X(PR_EEVENT, -20016, "event breaks a rule of the event model")         \
	X(PR_EDENIED, -20017, "signer is not entitled to this event")          \
	X(PR_ECONFLICT, -20018, "conflicts with the state of the log")         \
	X(PR_ENOSPC, -20019, "no space left on device")                        \
	X(PR_EMAPFULL, -20020, "database map size limit reached")              \
	X(PR_ECORRUPT, -20021, "stored data is corrupt")                       \
	X(PR_EROLLBACK, -20022, "store is older than a checkpoint it signed")  \
	X(PR_EBUSY, -20023, "resource busy")                                   \
	X(PR_EPANIC, -20024, "fatal store error")                              \
	X(PR_ESYS, -20025, "system call failed")                               \
	X(PR_EOVERLOAD, -20026, "too many pending requests")                   \
	X(PR_ECONFIG, -20027, "invalid configuration")                         \
	X(PR_ENET, -20028, "network error")                                    \
	X(PR_EPROTO, -20029, "unexpected response from server")

enum pr_err {
	PR_OK = 0,
#define PR_ERR_ENUM(name, value, msg) name = value,
	PR_ERRORS(PR_ERR_ENUM)
#undef PR_ERR_ENUM
};

/* Message for a PR_E* code, a negative errno, or 0; never NULL. */
const char *pr_strerror(int err);

/* Stable identifier of a PR_E* code ("ENOMEM"), "ok" for 0, or "unknown". */
const char *pr_errname(int err);

#endif
