/*
 * qr.h -- a QR code of a text (an otpauth:// URI) as a PNG image, encoded
 * by libqrencode (error correction level M, 8-bit mode) and written by
 * libpng: 1-bit greyscale, 4 pixels per module, a 4-module quiet zone.
 */
#ifndef MFA_QR_H
#define MFA_QR_H

#include <stddef.h>

#include "mfa.h"

#define QR_TEXT_MAX 1024 /* bytes of text accepted */

/*
 * Renders "text" into a newly allocated PNG ("*png", "*len"; the caller
 * wipes it with sodium_memzero and frees it with free: the image carries
 * the secret of the URI). Returns MFA_OK, MFA_ERR_TOOBIG (text over
 * QR_TEXT_MAX or over a QR code's capacity) or MFA_ERR_NOMEM.
 */
int qr_png(const char *text, unsigned char **png, size_t *len) MFA_WUR;

/*
 * The same image as a data URI "data:image/png;base64,..." (newly
 * allocated; caller wipes and frees), or NULL on any failure.
 */
char *qr_data_uri(const char *text);

#endif
