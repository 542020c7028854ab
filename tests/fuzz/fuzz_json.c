/*
 * libFuzzer harness: pr_json_parse() against jansson, an independent
 * parser with the same rules (JSON_REJECT_DUPLICATES, no NUL, top level
 * an object or an array, depth 2048).  Both must accept or refuse the
 * same inputs (but for NUL bytes, below) and build the same values.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

struct block {
	struct block *next;
	max_align_t data[];
};

static void *
arena_alloc(void *ctx, size_t size)
{
	struct block **list = ctx, *b;

	if ((b = malloc(sizeof(*b) + size)) == NULL)
		return NULL;
	b->next = *list;
	*list = b;
	return b->data;
}

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
same(const struct pr_json *a, const json_t *b)
{
	const char *key;
	json_t *bv;
	size_t i;

	switch (pr_json_type(a)) {
	case PR_JSON_NULL:
		check(json_is_null(b));
		break;
	case PR_JSON_TRUE:
		check(json_is_true(b));
		break;
	case PR_JSON_FALSE:
		check(json_is_false(b));
		break;
	case PR_JSON_INTEGER:
		check(json_is_integer(b) &&
		    json_integer_value(b) == pr_json_int(a));
		break;
	case PR_JSON_REAL:
		check(json_is_real(b) && json_real_value(b) == a->u.d);
		break;
	case PR_JSON_STRING:
		check(json_is_string(b) &&
		    json_string_length(b) == pr_json_len(a) &&
		    memcmp(json_string_value(b), pr_json_str(a),
		        pr_json_len(a)) == 0 &&
		    pr_json_str(a)[pr_json_len(a)] == '\0' &&
		    strlen(pr_json_str(a)) == pr_json_len(a));
		break;
	case PR_JSON_ARRAY:
		check(
		    json_is_array(b) && json_array_size(b) == pr_json_size(a));
		for (i = 0; i < pr_json_size(a); i++)
			same(&a->u.v[i], json_array_get(b, i));
		break;
	case PR_JSON_OBJECT:
		check(json_is_object(b) && json_object_size(b) == a->n);
		for (i = 0; i < a->n; i++) {
			key = a->u.v[i].key;
			check(strlen(key) == a->u.v[i].klen);
			check((bv = json_object_get(b, key)) != NULL);
			check(pr_json_get(a, key) == &a->u.v[i]);
			same(&a->u.v[i], bv);
		}
		break;
	default:
		abort();
	}
}

/*
 * Whether err is this parser's refusal of a number text longer than the
 * 400 bytes it reads (jansson reads any length): the error is at a
 * number of more than 400 characters.
 */
static int
too_long_number(
    const uint8_t *data, size_t size, const struct pr_json_error *err)
{
	size_t off = 0, n = 0;
	int line = 1;

	if (err->code != PR_JSON_ESYNTAX ||
	    strcmp(err->text, "number too long") != 0)
		return 0;
	while (line < err->line && off < size)
		if (data[off++] == '\n')
			line++;
	off += (size_t)err->column - 1;
	while (off + n < size && strchr("0123456789+-.eE", data[off + n]) &&
	    data[off + n] != '\0')
		n++;
	return n > 400;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct block *list = NULL, *next;
	struct pr_json_error err;
	struct pr_json *ours;
	json_error_t jerr;
	json_t *theirs;

	ours = pr_json_parse(
	    (const char *)data, size, DEPTH, arena_alloc, &list, &err);
	theirs =
	    json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (theirs == NULL) {
		check(ours == NULL && err.code != 0 && err.line >= 1 &&
		    err.column >= 1 && err.text[0] != '\0');
		/* jansson reports a duplicate as it reads the key, before a
		 * syntax error later in the object; this parser once the
		 * object is complete. */
		if (err.code == PR_JSON_EDUPLICATE)
			check(
			    json_error_code(&jerr) == json_error_duplicate_key);
	} else {
		/* jansson passes over some NUL bytes between tokens (its
		 * reader takes NUL for "no character yet"); RFC 8259 has
		 * no such whitespace and this parser refuses it.  And it
		 * refuses number texts over 400 bytes, such as
		 * 0e400999...9, which jansson reads as 0. */
		check(ours != NULL ||
		    (memchr(data, 0, size) != NULL &&
		        err.code == PR_JSON_ESYNTAX) ||
		    too_long_number(data, size, &err));
		if (ours != NULL)
			same(ours, theirs);
		json_decref(theirs);
	}
	for (; list != NULL; list = next) {
		next = list->next;
		free(list);
	}
	return 0;
}
