// SPDX-License-Identifier: MIT
/*
 * chart.c - where the demo's memory went (see chart.h).
 *
 * A cache's memory is its slabs: num_slabs * pagesperslab pages.  Of that,
 * active_objs * objsize bytes hold objects in use; the rest is waste -
 * free slots in partly used slabs and the tail of each slab that no object
 * fits in.  The chart has one bar per cache, the two parts stacked, drawn
 * into an RGB canvas with the built-in font and written by png.c.
 */
#include "chart.h"
#include "font.h"
#include "png.h"

#include <uslab/slab.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ the data */

static int by_size_desc(const void *a, const void *b)
{
	const struct slab_usage *x = a, *y = b;

	if (x->slab_bytes != y->slab_bytes)
		return x->slab_bytes < y->slab_bytes ? 1 : -1;
	return strcmp(x->name, y->name);
}

int slab_usage_parse(const char *slabinfo, struct slab_usage *u, int max)
{
	const char *line = slabinfo;
	int n = 0;

	while (line && *line && n < max) {
		const char *end = strchr(line, '\n');
		struct slab_usage *c = &u[n];
		unsigned long num_objs, objperslab, active_slabs;

		/*
		 * "<name> <active_objs> <num_objs> <objsize> <objperslab>
		 * <pagesperslab> : tunables <3 numbers> : slabdata
		 * <active_slabs> <num_slabs> <sharedavail>"; the two header
		 * lines do not scan.
		 */
		if (sscanf(line, "%63s %lu %lu %lu %lu %lu : tunables %*u %*u %*u"
			   " : slabdata %lu %lu", c->name, &c->active_objs,
			   &num_objs, &c->objsize, &objperslab, &c->pagesperslab,
			   &active_slabs, &c->num_slabs) == 8 && c->num_slabs) {
			c->obj_bytes = (unsigned long long)c->active_objs * c->objsize;
			c->slab_bytes = (unsigned long long)c->num_slabs *
					c->pagesperslab * PAGE_SIZE;
			/* The counts are a snapshot; keep the parts consistent. */
			if (c->obj_bytes > c->slab_bytes)
				c->obj_bytes = c->slab_bytes;
			n++;
		}
		line = end ? end + 1 : NULL;
	}
	qsort(u, n, sizeof(*u), by_size_desc);
	return n;
}

/*
 * KiB, the way the table and the labels show them: the total is a whole
 * number of pages, the objects are rounded to the nearest KiB and the
 * waste is the difference, so the two always add up to the total.
 */
static unsigned long long total_kib(const struct slab_usage *c)
{
	return c->slab_bytes >> 10;
}

static unsigned long long obj_kib(const struct slab_usage *c)
{
	return (c->obj_bytes + 512) >> 10;
}

static unsigned long long waste_kib(const struct slab_usage *c)
{
	return total_kib(c) - obj_kib(c);
}

static double waste_pct(const struct slab_usage *c)
{
	return 100.0 * (double)(c->slab_bytes - c->obj_bytes) / (double)c->slab_bytes;
}

void slab_usage_print(FILE *f, const struct slab_usage *u, int n)
{
	unsigned long long obj = 0, slab = 0;

	fprintf(f, "%-18s %12s %10s %10s %6s\n", "cache", "objects KiB",
		"waste KiB", "total KiB", "waste");
	for (int i = 0; i < n; i++) {
		fprintf(f, "%-18s %12llu %10llu %10llu %5.1f%%\n", u[i].name,
			obj_kib(&u[i]), waste_kib(&u[i]), total_kib(&u[i]),
			waste_pct(&u[i]));
		obj += u[i].obj_bytes;
		slab += u[i].slab_bytes;
	}
	if (n) {
		struct slab_usage all = { .obj_bytes = obj, .slab_bytes = slab };

		fprintf(f, "%-18s %12llu %10llu %10llu %5.1f%%\n", "all caches",
			obj_kib(&all), waste_kib(&all), total_kib(&all),
			waste_pct(&all));
	}
}

/* ---------------------------------------------------------- the canvas */

struct canvas {
	int w, h;
	uint8_t *px;	/* w * h pixels, 3 bytes each */
};

#define RGB(r, g, b)	((uint32_t)(r) << 16 | (uint32_t)(g) << 8 | (b))

static const uint32_t col_background = RGB(255, 255, 255);
static const uint32_t col_text = RGB(32, 32, 40);
static const uint32_t col_muted = RGB(96, 96, 110);
static const uint32_t col_grid = RGB(226, 228, 234);
static const uint32_t col_axis = RGB(64, 64, 72);
static const uint32_t col_objects = RGB(52, 106, 180);
static const uint32_t col_waste = RGB(238, 140, 40);

/* Fill a rectangle, clipped to the canvas. */
static void fill(struct canvas *cv, int x, int y, int w, int h, uint32_t col)
{
	int x1 = x + w, y1 = y + h;

	if (x < 0)
		x = 0;
	if (y < 0)
		y = 0;
	if (x1 > cv->w)
		x1 = cv->w;
	if (y1 > cv->h)
		y1 = cv->h;
	for (int j = y; j < y1; j++) {
		uint8_t *p = cv->px + ((size_t)j * cv->w + x) * 3;

		for (int i = x; i < x1; i++) {
			*p++ = col >> 16;
			*p++ = col >> 8;
			*p++ = col;
		}
	}
}

/* Width in pixels of @s drawn at @scale (no spacing after the last glyph). */
static int text_width(const char *s, int scale)
{
	int len = (int)strlen(s);

	return len ? (len * FONT_ADVANCE - (FONT_ADVANCE - FONT_W)) * scale : 0;
}

/* Draw @s with its top left corner at (@x, @y), each font pixel @scale wide. */
static void text(struct canvas *cv, int x, int y, const char *s, int scale,
		 uint32_t col)
{
	for (; *s; s++, x += FONT_ADVANCE * scale)
		for (int gy = 0; gy < FONT_H; gy++)
			for (int gx = 0; gx < FONT_W; gx++)
				if (font_pixel((unsigned char)*s, gx, gy))
					fill(cv, x + gx * scale, y + gy * scale,
					     scale, scale, col);
}

/* ----------------------------------------------------------- the chart */

#define MARGIN		24
#define SCALE		2			/* text size: font pixels are 2x2 */
#define TITLE_SCALE	3
#define CAP_H		(7 * SCALE)		/* capitals and digits */
#define LINE_H		(FONT_H * SCALE)	/* with descenders */
#define BAR_H		22
#define BAR_PITCH	34
#define PLOT_W		600			/* pixels for the longest axis */
#define LABEL_GAP	10
#define SWATCH		14			/* the legend's colour squares */

/* The smallest step of 1, 2 or 5 times a power of ten that is >= @raw. */
static unsigned long long nice_step(unsigned long long raw)
{
	unsigned long long mag = 1;

	while (mag * 10 <= raw)
		mag *= 10;
	if (raw <= mag)
		return mag;
	if (raw <= 2 * mag)
		return 2 * mag;
	if (raw <= 5 * mag)
		return 5 * mag;
	return 10 * mag;
}

/* The label after a bar: "9790 + 234 KiB (2.3% waste)". */
static void bar_label(char *buf, size_t size, const struct slab_usage *c)
{
	snprintf(buf, size, "%llu + %llu KiB (%.1f%% waste)", obj_kib(c),
		 waste_kib(c), waste_pct(c));
}

int slab_usage_chart(const char *path, const struct slab_usage *u, int n,
		     const char *subtitle)
{
	static const char title[] = "Where the demo's memory went";
	static const char leg_obj[] = "objects in use (active_objs x objsize)";
	static const char leg_waste[] = "waste (rest of the slab pages)";
	static const char x_title[] = "KiB of slab pages per cache";
	int bars = n < CHART_MAX_BARS ? n : CHART_MAX_BARS;
	unsigned long long max_kib = 0, step, axis_kib, rest_kib = 0;
	int name_w = 0, plot_x, bars_y, axis_y, legend_x, y, w, h, ret;
	char label[128], note[96] = "";
	struct canvas cv;

	if (bars <= 0)
		return -EINVAL;

	/* The x axis: at most six steps of a round number of KiB. */
	for (int i = 0; i < bars; i++)
		if (total_kib(&u[i]) > max_kib)
			max_kib = total_kib(&u[i]);
	step = nice_step((max_kib + 5) / 6);
	axis_kib = (max_kib + step - 1) / step * step;
	if (!axis_kib)
		axis_kib = step;

	for (int i = bars; i < n; i++)
		rest_kib += total_kib(&u[i]);
	if (n > bars)
		snprintf(note, sizeof(note), "not shown: %d smaller caches, %llu KiB in all",
			 n - bars, rest_kib);

	/* The layout, top to bottom: title, subtitle, legend, bars, axis. */
	for (int i = 0; i < bars; i++)
		if (text_width(u[i].name, SCALE) > name_w)
			name_w = text_width(u[i].name, SCALE);
	plot_x = MARGIN + name_w + LABEL_GAP;
	bars_y = MARGIN + 7 * TITLE_SCALE + 14 + LINE_H + 18 + LINE_H + 22;
	axis_y = bars_y + bars * BAR_PITCH;
	h = axis_y + 10 + LINE_H + 12 + LINE_H + (note[0] ? 12 + LINE_H : 0) + MARGIN;

	/* Wide enough for every bar's label and for the last tick's. */
	w = plot_x + PLOT_W + text_width("000000", SCALE) / 2;
	for (int i = 0; i < bars; i++) {
		int end = plot_x + (int)(total_kib(&u[i]) * PLOT_W / axis_kib);

		bar_label(label, sizeof(label), &u[i]);
		if (end + LABEL_GAP + text_width(label, SCALE) > w)
			w = end + LABEL_GAP + text_width(label, SCALE);
	}
	y = MARGIN + 2 * (SWATCH + 8) + text_width(leg_obj, SCALE) +
	    text_width(leg_waste, SCALE) + 40;	/* the legend's row */
	if (y > w)
		w = y;
	if (MARGIN + text_width(subtitle, SCALE) > w)
		w = MARGIN + text_width(subtitle, SCALE);
	w += MARGIN;

	cv.w = w;
	cv.h = h;
	cv.px = malloc((size_t)w * h * 3);
	if (!cv.px)
		return -ENOMEM;
	fill(&cv, 0, 0, w, h, col_background);

	/* Title and subtitle. */
	y = MARGIN;
	text(&cv, MARGIN, y, title, TITLE_SCALE, col_text);
	y += 7 * TITLE_SCALE + 14;
	text(&cv, MARGIN, y, subtitle, SCALE, col_muted);
	y += LINE_H + 18;

	/* Legend: a swatch and its words, twice, on one row. */
	fill(&cv, MARGIN, y, SWATCH, CAP_H, col_objects);
	text(&cv, MARGIN + SWATCH + 8, y, leg_obj, SCALE, col_text);
	legend_x = MARGIN + SWATCH + 8 + text_width(leg_obj, SCALE) + 40;
	fill(&cv, legend_x, y, SWATCH, CAP_H, col_waste);
	text(&cv, legend_x + SWATCH + 8, y, leg_waste, SCALE, col_text);

	/* Grid lines and ticks, behind the bars. */
	for (unsigned long long v = 0; v <= axis_kib; v += step) {
		int x = plot_x + (int)(v * PLOT_W / axis_kib);

		snprintf(label, sizeof(label), "%llu", v);
		if (v)
			fill(&cv, x, bars_y - 8, 1, axis_y - bars_y + 8, col_grid);
		fill(&cv, x, axis_y, 1, 6, col_axis);
		text(&cv, x - text_width(label, SCALE) / 2, axis_y + 10, label,
		     SCALE, col_text);
	}

	/* The bars: objects from the axis, waste after them, then labels. */
	for (int i = 0; i < bars; i++) {
		const struct slab_usage *c = &u[i];
		int by = bars_y + i * BAR_PITCH + (BAR_PITCH - BAR_H) / 2;
		int ty = by + (BAR_H - CAP_H) / 2;
		int total_px = (int)(c->slab_bytes * PLOT_W / (axis_kib << 10));
		int obj_px = (int)(c->obj_bytes * PLOT_W / (axis_kib << 10));

		if (!total_px)
			total_px = 1;	/* every cache shown has a slab */
		text(&cv, plot_x - LABEL_GAP - text_width(c->name, SCALE), ty,
		     c->name, SCALE, col_text);
		fill(&cv, plot_x, by, obj_px, BAR_H, col_objects);
		fill(&cv, plot_x + obj_px, by, total_px - obj_px, BAR_H, col_waste);
		bar_label(label, sizeof(label), c);
		text(&cv, plot_x + total_px + LABEL_GAP, ty, label, SCALE, col_muted);
	}

	/* The axis line (over the grid), its title, and what was left out. */
	fill(&cv, plot_x, bars_y - 8, 1, axis_y - bars_y + 8, col_axis);
	fill(&cv, plot_x, axis_y, PLOT_W + 1, 1, col_axis);
	y = axis_y + 10 + LINE_H + 12;
	text(&cv, plot_x + PLOT_W / 2 - text_width(x_title, SCALE) / 2, y,
	     x_title, SCALE, col_text);
	if (note[0])
		text(&cv, plot_x, y + LINE_H + 12, note, SCALE, col_muted);

	ret = png_write_rgb(path, cv.px, (unsigned int)w, (unsigned int)h);
	free(cv.px);
	return ret;
}
