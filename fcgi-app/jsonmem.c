/*
 * jsonmem.c -- jansson's frees wipe the block first (jsonmem.h).
 *
 * The block's size comes from malloc_usable_size(3) (glibc), so blocks
 * stay plain malloc(3) ones: jansson's own, anything it allocated before
 * jsonmem_init, and the strings it returns, which callers free(3).
 */
#define _GNU_SOURCE /* malloc_usable_size */
#include <malloc.h>
#include <stdlib.h>

#include <jansson.h>
#include <sodium.h>

#include "jsonmem.h"

static void
jsonmem_free(void *p)
{
	if (p == NULL)
		return;
	sodium_memzero(p, malloc_usable_size(p));
	free(p);
}

void
jsonmem_init(void)
{
	json_set_alloc_funcs(malloc, jsonmem_free);
}

bool
jsonmem_installed(void)
{
	json_malloc_t m;
	json_free_t f;

	json_get_alloc_funcs(&m, &f);
	return m == malloc && f == jsonmem_free;
}
