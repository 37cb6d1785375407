// SPDX-License-Identifier: MIT
/*
 * chart.h - where the demo's memory went: the caches' slab pages, split
 * into live objects and waste, read from the /proc/slabinfo text and shown
 * as a text table and as a PNG bar chart.
 */
#ifndef USLAB_DEMO_CHART_H
#define USLAB_DEMO_CHART_H

#include <stdio.h>

#define CHART_MAX_BARS	25	/* the chart shows the biggest caches only */

/* One cache's line of /proc/slabinfo, and what its numbers add up to. */
struct slab_usage {
	char name[64];
	unsigned long active_objs;
	unsigned long objsize;		/* bytes per object, metadata included */
	unsigned long num_slabs;
	unsigned long pagesperslab;
	unsigned long long obj_bytes;	/* active_objs * objsize */
	unsigned long long slab_bytes;	/* num_slabs * pagesperslab * PAGE_SIZE */
};

/*
 * slab_usage_parse - read the caches of @slabinfo (the text of
 * uslab_slabinfo()) into @u, at most @max of them: those that hold at
 * least one slab, biggest first.  Returns how many were stored.
 */
int slab_usage_parse(const char *slabinfo, struct slab_usage *u, int max);

/* slab_usage_print - the numbers of @u[0..@n) as a table, in KiB. */
void slab_usage_print(FILE *f, const struct slab_usage *u, int n);

/*
 * slab_usage_chart - draw @u[0..@n) (sorted as slab_usage_parse() leaves
 * them) as a horizontal stacked bar chart, @subtitle under the title, and
 * write it to @path as a PNG.  Returns 0 or a negative errno value.
 */
int slab_usage_chart(const char *path, const struct slab_usage *u, int n,
		     const char *subtitle);

#endif /* USLAB_DEMO_CHART_H */
