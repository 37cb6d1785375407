// SPDX-License-Identifier: MIT
/*
 * png.h - a minimal PNG writer for the demo's chart: 8-bit RGB, no
 * dependency (the zlib stream uses stored deflate blocks; CRC-32 and
 * Adler-32 are computed here).
 */
#ifndef USLAB_DEMO_PNG_H
#define USLAB_DEMO_PNG_H

#include <stddef.h>
#include <stdint.h>

/**
 * png_write_rgb - write @rgb (@height rows of @width pixels, 3 bytes each:
 * red, green, blue) to @path as a PNG file.  Returns 0, or a negative
 * errno value (and a partly written file is removed).
 */
int png_write_rgb(const char *path, const uint8_t *rgb,
		  unsigned int width, unsigned int height);

/* The checksums, exposed for whoever wants to test them. */
uint32_t png_crc32(uint32_t crc, const uint8_t *p, size_t len);
uint32_t png_adler32(uint32_t adler, const uint8_t *p, size_t len);

#endif /* USLAB_DEMO_PNG_H */
