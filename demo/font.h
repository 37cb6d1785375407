// SPDX-License-Identifier: MIT
/*
 * font.h - the chart's built-in bitmap font: printable ASCII in cells of
 * 5x9 pixels (capitals and digits 7 high, two rows below the baseline for
 * descenders), drawn one pixel apart.
 */
#ifndef USLAB_DEMO_FONT_H
#define USLAB_DEMO_FONT_H

#define FONT_W		5	/* glyph width in pixels */
#define FONT_H		9	/* glyph height, descenders included */
#define FONT_ADVANCE	6	/* from one character to the next */

/*
 * font_pixel - whether pixel (@x, @y) of the glyph for @c is set; (0, 0)
 * is the top left.  Characters the font lacks are drawn as an empty box.
 */
int font_pixel(unsigned char c, int x, int y);

#endif /* USLAB_DEMO_FONT_H */
