// SPDX-License-Identifier: MIT
/*
 * png.c - a minimal PNG writer (see png.h).
 *
 * A PNG file is an 8-byte signature and a list of chunks, each
 * "length, type, data, CRC-32 of type and data".  This writer emits
 * three: IHDR (size, 8-bit RGB, no interlace), one IDAT and IEND.
 *
 * The IDAT data is a zlib stream (RFC 1950) of the filtered scanlines:
 * each row is one filter byte (0: none) and the row's pixels.  The zlib
 * stream holds deflate data (RFC 1951) made only of stored blocks - no
 * compression, which every decoder accepts - so no library is needed:
 * a two-byte header, blocks of at most 65535 bytes each behind a
 * five-byte header, and the Adler-32 of the uncompressed data.
 */
#include "png.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORED_MAX	65535u	/* bytes in one stored deflate block */

/* CRC-32 as in ISO 3309 / PNG: reflected, polynomial 0xedb88320. */
uint32_t png_crc32(uint32_t crc, const uint8_t *p, size_t len)
{
	static uint32_t table[256];
	static int table_ready;

	if (!table_ready) {
		for (uint32_t n = 0; n < 256; n++) {
			uint32_t c = n;

			for (int k = 0; k < 8; k++)
				c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[n] = c;
		}
		table_ready = 1;
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* Adler-32 (RFC 1950): two sums modulo 65521; start with 1. */
uint32_t png_adler32(uint32_t adler, const uint8_t *p, size_t len)
{
	uint32_t a = adler & 0xffff, b = adler >> 16;

	while (len) {
		/* 5552 bytes is the most that cannot overflow b. */
		size_t n = len < 5552 ? len : 5552;

		len -= n;
		while (n--) {
			a += *p++;
			b += a;
		}
		a %= 65521;
		b %= 65521;
	}
	return b << 16 | a;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* One chunk: length, type, data, CRC of type and data. */
static int write_chunk(FILE *f, const char type[4], const uint8_t *data,
		       uint32_t len)
{
	uint8_t head[8], tail[4];
	uint32_t crc;

	put_be32(head, len);
	memcpy(head + 4, type, 4);
	crc = png_crc32(0, head + 4, 4);
	crc = png_crc32(crc, data, len);
	put_be32(tail, crc);
	if (fwrite(head, 1, 8, f) != 8 ||
	    (len && fwrite(data, 1, len, f) != len) ||
	    fwrite(tail, 1, 4, f) != 4)
		return -EIO;
	return 0;
}

/*
 * The zlib stream of the image: the scanlines with their filter bytes,
 * cut into stored blocks.  Returns a malloc'd buffer and its length in
 * *@zlen, or NULL.
 */
static uint8_t *zlib_stored(const uint8_t *rgb, unsigned int width,
			    unsigned int height, size_t *zlen)
{
	size_t row = (size_t)width * 3;
	size_t raw_len = (row + 1) * height;
	size_t blocks = (raw_len + STORED_MAX - 1) / STORED_MAX;
	uint8_t *raw, *z, *out;
	uint32_t adler;

	if (!blocks)
		blocks = 1;	/* an empty stream still needs a final block */

	/* The filtered scanlines: filter type 0 ("None") before each row. */
	raw = malloc(raw_len ? raw_len : 1);
	if (!raw)
		return NULL;
	for (unsigned int y = 0; y < height; y++) {
		raw[y * (row + 1)] = 0;
		memcpy(raw + y * (row + 1) + 1, rgb + y * row, row);
	}
	adler = png_adler32(1, raw, raw_len);

	*zlen = 2 + blocks * 5 + raw_len + 4;
	z = malloc(*zlen);
	if (!z) {
		free(raw);
		return NULL;
	}
	out = z;
	/*
	 * CMF 0x78: deflate with a 32 KiB window; FLG 0x01: no dictionary,
	 * "fastest" level, and the check bits that make CMF * 256 + FLG a
	 * multiple of 31.
	 */
	*out++ = 0x78;
	*out++ = 0x01;
	for (size_t done = 0, i = 0; i < blocks; i++) {
		size_t n = raw_len - done < STORED_MAX ? raw_len - done : STORED_MAX;

		/*
		 * BFINAL in bit 0, BTYPE 00 (stored) in bits 1-2; the rest of
		 * the byte is padding up to the byte boundary.  Then LEN and
		 * its one's complement NLEN, little-endian.
		 */
		*out++ = i == blocks - 1;
		*out++ = n & 0xff;
		*out++ = n >> 8;
		*out++ = ~n & 0xff;
		*out++ = (~n >> 8) & 0xff;
		memcpy(out, raw + done, n);
		out += n;
		done += n;
	}
	put_be32(out, adler);	/* the Adler-32 is big-endian */
	free(raw);
	return z;
}

int png_write_rgb(const char *path, const uint8_t *rgb,
		  unsigned int width, unsigned int height)
{
	static const uint8_t signature[8] = {
		0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'
	};
	uint8_t ihdr[13];
	uint8_t *z;
	size_t zlen;
	FILE *f;
	int ret;

	if (!width || !height || width > 0x7fffffff / 3)
		return -EINVAL;
	z = zlib_stored(rgb, width, height, &zlen);
	if (!z)
		return -ENOMEM;
	if (zlen > 0x7fffffff) {	/* a chunk holds at most 2^31 - 1 bytes */
		free(z);
		return -EFBIG;
	}

	put_be32(ihdr, width);
	put_be32(ihdr + 4, height);
	ihdr[8] = 8;	/* bit depth */
	ihdr[9] = 2;	/* colour type: RGB */
	ihdr[10] = 0;	/* compression method: deflate */
	ihdr[11] = 0;	/* filter method: adaptive (each row names its own) */
	ihdr[12] = 0;	/* no interlace */

	f = fopen(path, "wb");
	if (!f) {
		ret = -errno;
		free(z);
		return ret;
	}
	ret = fwrite(signature, 1, 8, f) == 8 ? 0 : -EIO;
	if (!ret)
		ret = write_chunk(f, "IHDR", ihdr, sizeof(ihdr));
	if (!ret)
		ret = write_chunk(f, "IDAT", z, (uint32_t)zlen);
	if (!ret)
		ret = write_chunk(f, "IEND", NULL, 0);
	if (fclose(f) && !ret)
		ret = -EIO;
	free(z);
	if (ret)
		remove(path);
	return ret;
}
