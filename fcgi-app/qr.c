/*
 * qr.c -- QR code images (see qr.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <qrencode.h>
#include <sodium.h>

#include "qr.h"

#define QR_SCALE 4 /* pixels per module */
#define QR_QUIET 4 /* modules of white border (ISO/IEC 18004) */
#define QR_PREFIX "data:image/png;base64,"

/* A growing output buffer for libpng's write callback. */
struct qr_buf {
	unsigned char *p;
	size_t len, cap;
	int failed;
};

static void
qr_write(png_structp png, png_bytep data, png_size_t n)
{
	struct qr_buf *b = png_get_io_ptr(png);
	unsigned char *np;
	size_t cap;

	if (b->failed)
		return;
	if (b->len + n > b->cap) {
		cap = b->cap == 0 ? 1024 : b->cap;
		while (cap < b->len + n)
			cap *= 2;
		/* the image encodes a secret: no realloc leaving copies */
		if ((np = malloc(cap)) == NULL) {
			b->failed = 1;
			return;
		}
		if (b->p != NULL) {
			memcpy(np, b->p, b->len);
			sodium_memzero(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void
qr_flush(png_structp png)
{
	(void)png;
}

/* One pixel row of module row "y" (-1 and width for the quiet zone). */
static void
qr_row(const QRcode *q, int y, unsigned char *row, size_t rowlen)
{
	int x, px;

	memset(row, 0xff, rowlen); /* 1 = white in greyscale */
	if (y < 0 || y >= q->width)
		return;
	for (x = 0; x < q->width; x++) {
		if (!(q->data[y * q->width + x] & 1))
			continue;
		for (px = (x + QR_QUIET) * QR_SCALE;
		    px < (x + QR_QUIET + 1) * QR_SCALE; px++)
			row[px / 8] &= (unsigned char)~(0x80 >> (px % 8));
	}
}

/* Writes the image; false when libpng failed (it longjmps here). */
static int
qr_encode_png(const QRcode *q, struct qr_buf *b)
{
	png_structp png;
	png_infop info;
	unsigned char *row;
	int side = (q->width + 2 * QR_QUIET) * QR_SCALE, y;
	volatile int rc = MFA_ERR_NOMEM; /* kept across libpng's longjmp */
	size_t rowlen = ((size_t)side + 7) / 8;

	if ((row = malloc(rowlen)) == NULL)
		return MFA_ERR_NOMEM;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL,
	    NULL);
	info = png != NULL ? png_create_info_struct(png) : NULL;
	if (png == NULL || info == NULL)
		goto out;
	if (setjmp(png_jmpbuf(png)))
		goto out;
	png_set_write_fn(png, b, qr_write, qr_flush);
	png_set_IHDR(png, info, (png_uint_32)side, (png_uint_32)side, 1,
	    PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < side; y++) {
		qr_row(q, y / QR_SCALE - QR_QUIET, row, rowlen);
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	rc = b->failed ? MFA_ERR_NOMEM : MFA_OK;
out:
	png_destroy_write_struct(png != NULL ? &png : NULL,
	    info != NULL ? &info : NULL);
	free(row);
	return rc;
}

int
qr_png(const char *text, unsigned char **png, size_t *len)
{
	struct qr_buf b = { NULL, 0, 0, 0 };
	QRcode *q;
	int rc;

	*png = NULL;
	*len = 0;
	if (strlen(text) > QR_TEXT_MAX)
		return MFA_ERR_TOOBIG;
	errno = 0;
	if ((q = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M)) == NULL)
		return errno == ENOMEM ? MFA_ERR_NOMEM : MFA_ERR_TOOBIG;
	rc = qr_encode_png(q, &b);
	sodium_memzero(q->data, (size_t)q->width * (size_t)q->width);
	QRcode_free(q);
	if (rc != MFA_OK) {
		if (b.p != NULL)
			sodium_memzero(b.p, b.cap);
		free(b.p);
		return rc;
	}
	*png = b.p;
	*len = b.len;
	return MFA_OK;
}

char *
qr_data_uri(const char *text)
{
	unsigned char *png;
	size_t len, plen = strlen(QR_PREFIX), blen;
	char *uri;

	if (qr_png(text, &png, &len) != MFA_OK)
		return NULL;
	blen = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	if ((uri = malloc(plen + blen)) != NULL) {
		memcpy(uri, QR_PREFIX, plen);
		sodium_bin2base64(uri + plen, blen, png, len,
		    sodium_base64_VARIANT_ORIGINAL);
	}
	sodium_memzero(png, len);
	free(png);
	return uri;
}
