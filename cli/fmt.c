/*
 * Tables, CSV, JSON and text widths for procurectl output.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/fmt.h"
#include "proto/err.h"
#include "proto/utf8.h"

struct range {
	uint32_t lo, hi;
};

/* Combining marks and zero-width characters (no column of their own). */
static const struct range zero_width[] = {
    {0x0300, 0x036f}, /* combining diacritical marks */
    {0x0483, 0x0489}, /* Cyrillic combining marks */
    {0x0591, 0x05bd},
    {0x0610, 0x061a},
    {0x064b, 0x065f},
    {0x1ab0, 0x1aff},
    {0x1dc0, 0x1dff},
    {0x200b, 0x200f}, /* zero-width space, joiners, marks */
    {0x202a, 0x202e},
    {0x2060, 0x2064},
    {0x20d0, 0x20ff},
    {0xfe00, 0xfe0f}, /* variation selectors */
    {0xfe20, 0xfe2f},
    {0xfeff, 0xfeff},
};

/* East Asian wide and fullwidth characters (two columns). */
static const struct range wide[] = {
    {0x1100, 0x115f},
    {0x2e80, 0x303e},
    {0x3041, 0x33ff},
    {0x3400, 0x4dbf},
    {0x4e00, 0x9fff},
    {0xa000, 0xa4cf},
    {0xac00, 0xd7a3},
    {0xf900, 0xfaff},
    {0xfe30, 0xfe4f},
    {0xff00, 0xff60},
    {0xffe0, 0xffe6},
    {0x1f300, 0x1f64f},
    {0x1f900, 0x1f9ff},
    {0x20000, 0x3fffd},
};

static int
in_ranges(const struct range *r, size_t n, uint32_t cp)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < r[mid].lo)
			hi = mid;
		else if (cp > r[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

static size_t
cp_width(uint32_t cp)
{
	if (in_ranges(
	        zero_width, sizeof(zero_width) / sizeof(zero_width[0]), cp))
		return 0;
	if (in_ranges(wide, sizeof(wide) / sizeof(wide[0]), cp))
		return 2;
	return 1;
}

/* 1 if cp must not reach a terminal (C0, DEL, C1 controls). */
static int
is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

/*
 * Next display unit of s[off..len): its byte length, its code point (or
 * '?' for an invalid byte or a control character).
 */
static size_t
next_unit(const char *s, size_t len, size_t off, uint32_t *cp)
{
	size_t n;

	n = pr_utf8_next((const uint8_t *)s + off, len - off, cp);
	if (n == 0) {
		*cp = '?';
		return 1;
	}
	if (is_control(*cp))
		*cp = '?';
	return n;
}

size_t
cl_width(const char *s, size_t len)
{
	size_t off = 0, w = 0;
	uint32_t cp;

	while (off < len) {
		off += next_unit(s, len, off, &cp);
		w += cp_width(cp);
	}
	return w;
}

int
cl_sanitize(struct pr_buf *out, const char *s, size_t len)
{
	size_t off = 0, n;
	uint32_t cp;
	int rc;

	while (off < len) {
		n = next_unit(s, len, off, &cp);
		if (cp == '?' && s[off] != '?')
			rc = pr_buf_append_byte(out, '?');
		else
			rc = pr_buf_append(out, s + off, n);
		if (rc != 0)
			return rc;
		off += n;
	}
	return 0;
}

int
cl_truncate(struct pr_buf *out, const char *s, size_t len, size_t maxw)
{
	size_t off = 0, n, w = 0, cw, keep;
	uint32_t cp;
	int rc;

	if (cl_width(s, len) <= maxw)
		return cl_sanitize(out, s, len);
	if (maxw == 0)
		return 0;
	/* Keep what fits in maxw - 1 columns, then the ellipsis. */
	keep = 0;
	while (off < len) {
		n = next_unit(s, len, off, &cp);
		cw = cp_width(cp);
		if (w + cw > maxw - 1)
			break;
		w += cw;
		off += n;
		keep = off;
	}
	if ((rc = cl_sanitize(out, s, keep)) != 0)
		return rc;
	return pr_buf_append_str(out, "\xe2\x80\xa6");
}

/* 1 if s[0..len) is -?DIGITS(.DIGITS)? */
static int
is_decimal(const char *s, size_t len, size_t *intlen, size_t *start)
{
	size_t i = 0, d;

	if (len > 0 && s[0] == '-')
		i = 1;
	*start = i;
	for (d = i; d < len && s[d] >= '0' && s[d] <= '9'; d++)
		;
	if (d == i)
		return 0;
	*intlen = d - i;
	if (d == len)
		return 1;
	if (s[d] != '.' || d + 1 == len)
		return 0;
	for (d++; d < len; d++)
		if (s[d] < '0' || s[d] > '9')
			return 0;
	return 1;
}

int
cl_group_digits(struct pr_buf *out, const char *s, size_t len)
{
	size_t intlen, start, i;
	int rc;

	if (!is_decimal(s, len, &intlen, &start))
		return cl_sanitize(out, s, len);
	if ((rc = pr_buf_append(out, s, start)) != 0)
		return rc;
	for (i = 0; i < intlen; i++) {
		if (i > 0 && (intlen - i) % 3 == 0 &&
		    (rc = pr_buf_append_byte(out, ',')) != 0)
			return rc;
		if ((rc = pr_buf_append_byte(out, (uint8_t)s[start + i])) != 0)
			return rc;
	}
	return pr_buf_append(out, s + start + intlen, len - start - intlen);
}

int
cl_fmt_amount(struct pr_buf *out, const char *amount, const char *cur)
{
	int rc;

	if (amount == NULL)
		return 0;
	if ((rc = cl_group_digits(out, amount, strlen(amount))) != 0)
		return rc;
	if (cur == NULL || *cur == '\0')
		return 0;
	if ((rc = pr_buf_append_byte(out, ' ')) != 0)
		return rc;
	return cl_sanitize(out, cur, strlen(cur));
}

int
cl_csv_field(struct pr_buf *out, const char *s, size_t len)
{
	size_t i;
	int quote = 0, rc;

	for (i = 0; i < len; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			quote = 1;
	if (len > 0 && (s[0] == ' ' || s[len - 1] == ' '))
		quote = 1;
	if (!quote)
		return pr_buf_append(out, s, len);
	if ((rc = pr_buf_append_byte(out, '"')) != 0)
		return rc;
	for (i = 0; i < len; i++) {
		if (s[i] == '"' && (rc = pr_buf_append_byte(out, '"')) != 0)
			return rc;
		if ((rc = pr_buf_append_byte(out, (uint8_t)s[i])) != 0)
			return rc;
	}
	return pr_buf_append_byte(out, '"');
}

void
cl_table_init(struct cl_table *t, const struct cl_col *cols, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->cols = cols;
	t->ncols = ncols;
}

int
cl_table_add(struct cl_table *t, const char *const *cells)
{
	size_t i, base;
	char **p;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;

		if (cap > SIZE_MAX / sizeof(char *) / t->ncols)
			return PR_ENOMEM;
		if ((p = realloc(t->cells, cap * t->ncols * sizeof(*p))) ==
		    NULL)
			return PR_ENOMEM;
		t->cells = p;
		t->cap = cap;
	}
	base = t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		t->cells[base + i] = NULL;
		if (cells[i] == NULL)
			continue;
		if ((t->cells[base + i] = strdup(cells[i])) == NULL) {
			while (i-- > 0)
				free(t->cells[base + i]);
			return PR_ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

void
cl_table_free(struct cl_table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

/* The text of cell (r, c) as shown on a terminal, appended to out. */
static int
text_cell(const struct cl_table *t, size_t r, size_t c, struct pr_buf *out)
{
	const struct cl_col *col = &t->cols[c];
	const char *s = t->cells[r * t->ncols + c], *unit = NULL;
	struct pr_buf tmp = PR_BUF_INIT;
	int rc;

	if (s == NULL)
		return 0;
	if (col->flags & CL_COL_NUMBER) {
		if (col->unit >= 0 && (size_t)col->unit < t->ncols)
			unit = t->cells[r * t->ncols + (size_t)col->unit];
		return cl_fmt_amount(out, s, unit);
	}
	if (col->maxw == 0)
		return cl_sanitize(out, s, strlen(s));
	rc = cl_truncate(&tmp, s, strlen(s), col->maxw);
	if (rc == 0 && tmp.len > 0)
		rc = pr_buf_append(out, tmp.data, tmp.len);
	pr_buf_free(&tmp);
	return rc;
}

static int
pad(struct pr_buf *out, size_t n)
{
	int rc = 0;

	while (n-- > 0 && rc == 0)
		rc = pr_buf_append_byte(out, ' ');
	return rc;
}

/* 1 if column c is not shown on a terminal. */
static int
hidden(const struct cl_table *t, size_t c)
{
	size_t r;

	if (t->cols[c].flags & CL_COL_NOTEXT)
		return 1;
	if (!(t->cols[c].flags & CL_COL_OPTIONAL))
		return 0;
	for (r = 0; r < t->nrows; r++)
		if (t->cells[r * t->ncols + c] != NULL &&
		    t->cells[r * t->ncols + c][0] != '\0')
			return 0;
	return 1;
}

static int
render_text(const struct cl_table *t, struct pr_buf *out)
{
	struct pr_buf *cell;
	size_t *w, r, c, n = (t->nrows + 1) * t->ncols, last = 0;
	int rc = PR_ENOMEM;

	if ((cell = calloc(n, sizeof(*cell))) == NULL)
		return PR_ENOMEM;
	if ((w = calloc(t->ncols, sizeof(*w))) == NULL)
		goto free_cells;
	for (c = 0; c < t->ncols; c++) {
		if (hidden(t, c))
			continue;
		last = c;
		if ((rc = pr_buf_append_str(&cell[c], t->cols[c].title)) != 0)
			goto free_w;
		w[c] = cl_width((char *)cell[c].data, cell[c].len);
	}
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			struct pr_buf *b = &cell[(r + 1) * t->ncols + c];
			size_t cw;

			if (hidden(t, c))
				continue;
			if ((rc = text_cell(t, r, c, b)) != 0)
				goto free_w;
			cw = cl_width((char *)b->data, b->len);
			if (cw > w[c])
				w[c] = cw;
		}
	for (r = 0; r <= t->nrows; r++) {
		int first = 1;

		for (c = 0; c < t->ncols; c++) {
			struct pr_buf *b = &cell[r * t->ncols + c];
			size_t cw, gap;
			int right;

			if (hidden(t, c))
				continue;
			right = (t->cols[c].flags &
			            (CL_COL_RIGHT | CL_COL_NUMBER)) != 0;
			cw = cl_width((char *)b->data, b->len);
			gap = w[c] - cw;
			if ((!first && (rc = pad(out, 2)) != 0) ||
			    (right && (rc = pad(out, gap)) != 0) ||
			    (b->len > 0 &&
			        (rc = pr_buf_append(out, b->data, b->len)) !=
			            0) ||
			    (!right && c != last && (rc = pad(out, gap)) != 0))
				goto free_w;
			first = 0;
		}
		/* No trailing blanks (right-aligned empty cells). */
		while (out->len > 0 && out->data[out->len - 1] == ' ')
			out->len--;
		if ((rc = pr_buf_append_byte(out, '\n')) != 0)
			goto free_w;
	}
	rc = 0;
free_w:
	free(w);
free_cells:
	for (r = 0; r < n; r++)
		pr_buf_free(&cell[r]);
	free(cell);
	return rc;
}

static int
render_vertical(const struct cl_table *t, struct pr_buf *out)
{
	size_t r, c, w = 0, tw;
	int rc;

	for (c = 0; c < t->ncols; c++) {
		tw = cl_width(t->cols[c].title, strlen(t->cols[c].title));
		if (tw > w)
			w = tw;
	}
	for (r = 0; r < t->nrows; r++) {
		if (r > 0 && (rc = pr_buf_append_byte(out, '\n')) != 0)
			return rc;
		for (c = 0; c < t->ncols; c++) {
			const char *title = t->cols[c].title;

			if ((t->cols[c].flags & CL_COL_NOTEXT) ||
			    t->cells[r * t->ncols + c] == NULL)
				continue;
			if ((rc = pr_buf_append_str(out, title)) != 0 ||
			    (rc = pad(out,
			         w + 2 - cl_width(title, strlen(title)))) !=
			        0 ||
			    (rc = text_cell(t, r, c, out)) != 0 ||
			    (rc = pr_buf_append_byte(out, '\n')) != 0)
				return rc;
		}
	}
	return 0;
}

static int
render_csv(const struct cl_table *t, struct pr_buf *out)
{
	size_t r, c;
	int rc;

	for (r = 0; r <= t->nrows; r++) {
		int first = 1;

		for (c = 0; c < t->ncols; c++) {
			const char *s;

			if (t->cols[c].flags & CL_COL_NOCSV)
				continue;
			s = r == 0 ? t->cols[c].key
			           : t->cells[(r - 1) * t->ncols + c];
			if (s == NULL)
				s = "";
			if ((!first &&
			        (rc = pr_buf_append_byte(out, ',')) != 0) ||
			    (rc = cl_csv_field(out, s, strlen(s))) != 0)
				return rc;
			first = 0;
		}
		if ((rc = pr_buf_append_str(out, "\r\n")) != 0)
			return rc;
	}
	return 0;
}

int
cl_table_render(const struct cl_table *t, enum cl_mode mode, struct pr_buf *out)
{
	if (mode == CL_CSV)
		return render_csv(t, out);
	if (t->vertical)
		return render_vertical(t, out);
	return render_text(t, out);
}

int
cl_table_print(const struct cl_table *t, enum cl_mode mode, FILE *f)
{
	struct pr_buf b = PR_BUF_INIT;
	int rc;

	if ((rc = cl_table_render(t, mode, &b)) == 0 && b.len > 0 &&
	    fwrite(b.data, 1, b.len, f) != b.len)
		rc = PR_EIO;
	pr_buf_free(&b);
	return rc;
}

int
cl_json_print(const json_t *doc, FILE *f)
{
	if (json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
	    fputc('\n', f) == EOF)
		return PR_EIO;
	return 0;
}
