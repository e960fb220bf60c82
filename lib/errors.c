// SPDX-License-Identifier: MIT
/* errors — struct zcrx_error helpers.  Never prints. */
#include <string.h>

#include "zcrx.h"

void zcrx_error_clear(struct zcrx_error *e)
{
	if (!e)
		return;
	if (e->parameters)
		json_object_put(e->parameters);
	memset(e, 0, sizeof(*e));
}
