// SPDX-License-Identifier: MIT
/*
 * sanitize.c - AddressSanitizer poisoning and valgrind memcheck client
 * requests (placeholder: being written).
 */
#include "slab.h"

void sanitize_init(void)
{
}
