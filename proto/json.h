/*
 * A strict JSON (RFC 8259) parser for event payloads: one pass over the
 * text into a read-only tree allocated from a caller's arena, so that a
 * whole event costs a few allocations, not one per value.
 *
 * Strictness: the top level is an object or an array; strings are valid
 * UTF-8 (no overlong forms, no surrogates) without raw control
 * characters, and \u0000 and unpaired surrogate escapes are refused;
 * integers (no fraction, no exponent) must fit in int64_t and other
 * numbers in a finite double, their text at most 400 bytes (longer
 * ones, even 0e400999..., are refused); duplicate object keys are
 * refused; nesting is limited; nothing but whitespace may follow the
 * value.
 *
 * The tree is immutable and lives as long as the arena.  Every accessor
 * is NULL-safe and returns NULL, 0 or false for a value of another type.
 */
#ifndef PR_JSON_H
#define PR_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum pr_json_type {
	PR_JSON_NULL,
	PR_JSON_FALSE,
	PR_JSON_TRUE,
	PR_JSON_INTEGER,
	PR_JSON_REAL,
	PR_JSON_STRING,
	PR_JSON_ARRAY,
	PR_JSON_OBJECT
};

struct pr_json {
	uint8_t type; /* enum pr_json_type */
	uint32_t n; /* string: bytes; array, object: members */
	uint32_t klen; /* object member: the key's length */
	const char *key; /* object member: its key, NUL-terminated */
	union {
		const char *s; /* NUL-terminated (no NUL inside) */
		int64_t i;
		double d;
		struct pr_json *v; /* n members, in document order */
	} u;
};

enum pr_json_errcode {
	PR_JSON_ESYNTAX = 1, /* not JSON, or not the JSON this accepts */
	PR_JSON_EDUPLICATE, /* an object has the same key twice */
	PR_JSON_EDEPTH, /* nested deeper than allowed */
	PR_JSON_ENOMEM /* the arena failed */
};

struct pr_json_error {
	enum pr_json_errcode code;
	int line, column; /* 1-based, of the offending byte */
	char text[120];
};

/* Allocate size bytes aligned for any type, or NULL. */
typedef void *(*pr_json_alloc_fn)(void *ctx, size_t size);

/*
 * Parse text[0..len) into a tree allocated with alloc(ctx, ...), nested at
 * most maxdepth arrays and objects deep.  Returns the root, or NULL and
 * fills *err (which may be NULL).  Memory alloc returned before a failure
 * stays in the arena.
 */
struct pr_json *pr_json_parse(const char *text, size_t len, unsigned maxdepth,
    pr_json_alloc_fn alloc, void *ctx, struct pr_json_error *err);

static inline enum pr_json_type
pr_json_type(const struct pr_json *v)
{
	return (enum pr_json_type)v->type;
}

static inline bool
pr_json_is(const struct pr_json *v, enum pr_json_type t)
{
	return v != NULL && v->type == t;
}

#define pr_json_is_object(v) pr_json_is((v), PR_JSON_OBJECT)
#define pr_json_is_array(v) pr_json_is((v), PR_JSON_ARRAY)
#define pr_json_is_string(v) pr_json_is((v), PR_JSON_STRING)
#define pr_json_is_integer(v) pr_json_is((v), PR_JSON_INTEGER)
#define pr_json_is_real(v) pr_json_is((v), PR_JSON_REAL)
#define pr_json_is_number(v) (pr_json_is_integer(v) || pr_json_is_real(v))

/* The string's bytes (NUL-terminated), or NULL. */
static inline const char *
pr_json_str(const struct pr_json *v)
{
	return pr_json_is_string(v) ? v->u.s : NULL;
}

/* The string's length in bytes, or 0. */
static inline size_t
pr_json_len(const struct pr_json *v)
{
	return pr_json_is_string(v) ? v->n : 0;
}

/* The integer, or 0. */
static inline int64_t
pr_json_int(const struct pr_json *v)
{
	return pr_json_is_integer(v) ? v->u.i : 0;
}

/* The number of elements of an array, or 0. */
static inline size_t
pr_json_size(const struct pr_json *a)
{
	return pr_json_is_array(a) ? a->n : 0;
}

/* Member key of object o, or NULL. */
static inline struct pr_json *
pr_json_get(const struct pr_json *o, const char *key)
{
	size_t i, klen;

	if (!pr_json_is_object(o))
		return NULL;
	klen = strlen(key);
	for (i = 0; i < o->n; i++)
		if (o->u.v[i].klen == klen &&
		    memcmp(o->u.v[i].key, key, klen) == 0)
			return &o->u.v[i];
	return NULL;
}

/* for each element val of array arr, at index idx (size_t) */
#define pr_json_array_foreach(arr, idx, val)                                   \
	for ((idx) = 0;                                                        \
	     (idx) < pr_json_size(arr) && ((val) = &(arr)->u.v[(idx)], 1);     \
	     (idx)++)

/* for each member of object obj, in document order: its key and value
 * val; idx is a size_t counter */
#define pr_json_object_foreach(obj, idx, k, val)                               \
	for ((idx) = 0; pr_json_is_object(obj) && (idx) < (obj)->n &&          \
	     ((k) = (obj)->u.v[(idx)].key, (val) = &(obj)->u.v[(idx)], 1);     \
	     (idx)++)

struct pr_buf;

/*
 * Append s (NUL-terminated UTF-8) to b as a JSON string literal, quoted
 * and escaped as jansson's compact output does it: \" \\ \b \f \n \r
 * \t, other control characters as \u00XX (upper-case hex), everything
 * else as it is.
 * 0 or PR_ENOMEM.
 */
int pr_json_quote(struct pr_buf *b, const char *s);

#endif
