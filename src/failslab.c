// SPDX-License-Identifier: MIT
/*
 * failslab.c - the kernel's failslab fault injection (placeholder: being
 * written).
 */
#include "slab.h"

void failslab_init(void)
{
}
