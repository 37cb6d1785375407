// SPDX-License-Identifier: MIT
/*
 * slab_debug_parse.c - USLAB_SLAB_DEBUG's grammar (the kernel's
 * slab_debug=, Documentation/mm/slub.rst): flag letters in either case,
 * no letters meaning F, Z, P and U, '-' meaning off, cache lists with
 * '*' globs, ';' blocks, the global block, and refusal of a bad string
 * naming the bad character.
 */
#include "test.h"
#include "../src/slab_debug.h"

static slab_flags_t flags_of(const char *str, const char *name)
{
	CHECK_EQ(slab_debug_parse(str), 0);
	return kmem_cache_flags(0, name);
}

int main(void)
{
	const slab_flags_t FZPU = SLAB_DEBUG_DEFAULT;

	/* Not set: nothing; set but empty: F, Z, P and U everywhere (a bare slab_debug). */
	CHECK_EQ(flags_of(NULL, "dentry"), 0);
	CHECK(!slab_debug_enabled());
	CHECK_EQ(flags_of("", "dentry"), FZPU);
	CHECK(slab_debug_enabled());

	/* Letters, either case. */
	CHECK_EQ(flags_of("F", "x"), SLAB_CONSISTENCY_CHECKS);
	CHECK_EQ(flags_of("zp", "x"), SLAB_RED_ZONE | SLAB_POISON);
	CHECK_EQ(flags_of("UT", "x"), SLAB_STORE_USER | SLAB_TRACE);
	CHECK_EQ(flags_of("A", "x"), SLAB_FAILSLAB);
	CHECK_EQ(flags_of("FO", "x"), SLAB_CONSISTENCY_CHECKS | SLAB_DEBUG_ORDER_OFF);
	CHECK_EQ(flags_of("-", "x"), 0);
	CHECK(!slab_debug_enabled());

	/* A cache list: only those caches; no letters before the comma: F, Z, P, U. */
	CHECK_EQ(flags_of(",dentry", "dentry"), FZPU);
	CHECK_EQ(flags_of(",dentry", "inode"), 0);
	CHECK_EQ(flags_of("F,dentry,inode_cache", "inode_cache"), SLAB_CONSISTENCY_CHECKS);
	CHECK_EQ(flags_of("F,dentry,inode_cache", "inode"), 0);

	/* Globs: a '*' ends the match. */
	CHECK_EQ(flags_of("P,kmalloc-*", "kmalloc-64"), SLAB_POISON);
	CHECK_EQ(flags_of("P,kmalloc-*", "kmalloc"), 0);
	CHECK_EQ(flags_of("P,kmalloc-*", "kmem_cache"), 0);

	/* Blocks: the listed caches get their block, every other one the global block. */
	CHECK_EQ(flags_of("FZ;-,zs_handle,zspage", "zspage"), 0);
	CHECK_EQ(flags_of("FZ;-,zs_handle,zspage", "dentry"), SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE);
	CHECK_EQ(flags_of("U,dentry;P,inode", "inode"), SLAB_POISON);
	CHECK_EQ(flags_of("U,dentry;P,inode", "dentry"), SLAB_STORE_USER);
	CHECK_EQ(flags_of("U,dentry;P,inode", "other"), 0);

	/* The caller's own flags stay. */
	CHECK_EQ(slab_debug_parse("P,x"), 0);
	CHECK_EQ(kmem_cache_flags(SLAB_HWCACHE_ALIGN, "x"), SLAB_HWCACHE_ALIGN | SLAB_POISON);

	/* A bad letter refuses the whole string, and says which (seen on stderr). */
	CHECK_EQ(slab_debug_parse("FZX,dentry"), -1);
	CHECK_EQ(kmem_cache_flags(0, "dentry"), 0);
	CHECK(!slab_debug_enabled());
	CHECK_EQ(slab_debug_parse("F;Q"), -1);
	CHECK_EQ(kmem_cache_flags(0, "x"), 0);
	return test_done("slab_debug_parse");
}
