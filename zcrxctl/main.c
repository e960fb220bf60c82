// SPDX-License-Identifier: MIT
/* zcrxctl — the operator's command line for zcrxd.  See ctl.c. */
#include <stdio.h>

#include "ctl.h"

int main(int argc, char **argv)
{
	return ctl_main(argc, argv, stdout, stderr);
}
