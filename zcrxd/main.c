// SPDX-License-Identifier: MIT
/* zcrxd — placeholder until the foundation lands. */
#include <stdio.h>
int main(void)
{
	puts("zcrxd " ZCRX_VERSION);
	return 0;
}
