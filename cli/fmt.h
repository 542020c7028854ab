/*
 * Output for people and programs: aligned tables on a terminal, RFC 4180
 * CSV, JSON documents.
 *
 * Text that comes from a server or a log is never written to a terminal
 * as is: cl_sanitize() replaces control characters (C0, DEL, C1) and
 * invalid UTF-8 with '?', so an entry cannot move the cursor or change
 * the terminal's state.  Column widths are display widths (cl_width()),
 * so Kazakh and Russian names in Cyrillic line up with Latin ones, and
 * CJK text counts two columns a character.
 */
#ifndef CL_FMT_H
#define CL_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "proto/buf.h"

/* Output modes chosen by --json and --csv. */
enum cl_mode {
	CL_TEXT = 0,
	CL_JSON,
	CL_CSV,
};

/*
 * Display width of the UTF-8 text s[0..len) in terminal columns: 0 for
 * combining marks and zero-width characters, 2 for East Asian wide
 * characters, 1 for everything else (an invalid byte counts as one
 * column, as cl_sanitize() prints it as '?').
 */
size_t cl_width(const char *s, size_t len);

/* Append s[0..len) to out with control characters and invalid UTF-8
 * replaced by '?'. */
int cl_sanitize(struct pr_buf *out, const char *s, size_t len);

/*
 * Append s[0..len) to out cut to at most maxw display columns; a cut text
 * ends with "…" (which counts one column).  Characters are never split.
 */
int cl_truncate(struct pr_buf *out, const char *s, size_t len, size_t maxw);

/*
 * Group the integer digits of a decimal number with ',' every three
 * digits: "1234567.50" -> "1,234,567.50", "-1234" -> "-1,234".  Text that
 * is not an optional '-', digits and an optional fraction is appended
 * unchanged.
 */
int cl_group_digits(struct pr_buf *out, const char *s, size_t len);

/*
 * Append the amount as a person reads it: grouped digits, a space and the
 * currency code ("1,234,567.50 KZT"); without a currency, only the
 * grouped digits.
 */
int cl_fmt_amount(struct pr_buf *out, const char *amount, const char *cur);

/* Append one RFC 4180 field: quoted (quotes doubled) when it holds a
 * comma, a quote, CR or LF, or starts or ends with a space. */
int cl_csv_field(struct pr_buf *out, const char *s, size_t len);

/*
 * A table: columns fixed at creation, rows of strings appended, printed
 * at the end as aligned text or CSV.  Cells are copied.
 *
 * Column flags:
 *   CL_COL_RIGHT    right-aligned in text mode
 *   CL_COL_NUMBER   a decimal number: digits grouped in text mode
 *                   (implies right alignment)
 *   CL_COL_NOTEXT   omitted in text mode (e.g. a currency column whose
 *                   code is shown next to the amounts instead)
 *   CL_COL_NOCSV    omitted from CSV
 *   CL_COL_OPTIONAL omitted in text mode when every cell is empty
 * unit: for a number column, the index of a column whose cell is written
 * after the number in text mode ("1,200.00 KZT"), or -1.
 * maxw: in text mode, cells wider than this are cut with "…" (0: never).
 *
 * The CSV header row is the columns' keys; the text header is titles.
 */
#define CL_COL_RIGHT 0x01
#define CL_COL_NUMBER 0x02
#define CL_COL_NOTEXT 0x04
#define CL_COL_NOCSV 0x08
#define CL_COL_OPTIONAL 0x10

struct cl_col {
	const char *key;
	const char *title;
	unsigned flags;
	int unit;
	size_t maxw;
};

struct cl_table {
	const struct cl_col *cols;
	size_t ncols;
	char **cells; /* nrows * ncols, row-major; NULL cells print empty */
	size_t nrows;
	size_t cap;
	int vertical; /* text mode: one "title  value" line a column, rows
	                 separated by a blank line (for records) */
};

void cl_table_init(struct cl_table *t, const struct cl_col *cols, size_t ncols);
/* Append a row of ncols cells (a NULL cell is empty). */
int cl_table_add(struct cl_table *t, const char *const *cells);
/* Render as aligned text (CL_TEXT) or CSV (CL_CSV) into out. */
int cl_table_render(
    const struct cl_table *t, enum cl_mode mode, struct pr_buf *out);
/* Render and write to f; PR_EIO if the write fails. */
int cl_table_print(const struct cl_table *t, enum cl_mode mode, FILE *f);
void cl_table_free(struct cl_table *t);

/* Write one JSON document (indented, keys in insertion order) and a
 * newline to f; PR_EIO if the write fails. */
int cl_json_print(const json_t *doc, FILE *f);

#endif
