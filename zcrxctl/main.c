// SPDX-License-Identifier: MIT
/* zcrxctl — placeholder until the foundation lands. */
#include <stdio.h>
int main(void)
{
	puts("zcrxctl " ZCRX_VERSION);
	return 0;
}
