/*
 * Helpers shared by the red-flag engine's unit tests (test_flags.c,
 * test_flags_totals.c), which include daemon/flags_index.c for apply().
 */
#ifndef FLAGS_TEST_H
#define FLAGS_TEST_H

/* Parse text as an event and apply it to f as entry idx with leaf hash
 * leaf; an event that does not parse fails the test, naming it. */
static void
fold_event(struct flags *f, uint64_t idx, const uint8_t *leaf,
    const char *text)
{
	struct pr_event_error err;
	struct pr_event *e;

	memset(&err, 0, sizeof(err));
	if (pr_event_parse((const uint8_t *)text, strlen(text), &e, &err) != 0)
		fail_msg("event %llu: %s at %s: %s\n%s",
		    (unsigned long long)idx, err.code, err.path, err.message,
		    text);
	assert_int_equal(apply(f, idx, leaf, e), 0);
	pr_event_free(e);
}

#endif
