/*
 * jsonmem.h -- jansson's memory wiped when it is freed: a parsed request
 * body holds a client secret or a code, a message its binding code, an
 * answer a token, and jansson copies each of them (parsed strings, packed
 * values, the buffers it grows while dumping). Its allocations stay
 * malloc(3)'s, so what jansson hands over (json_dumps) is freed with
 * free(3) as before; the caller wipes what it holds itself.
 */
#ifndef MFA_JSONMEM_H
#define MFA_JSONMEM_H

#include <stdbool.h>

/* Installs the wiping free for jansson; call once, early in main. */
void jsonmem_init(void);

/* True when jansson frees through jsonmem (for the tests). */
bool jsonmem_installed(void);

#endif
