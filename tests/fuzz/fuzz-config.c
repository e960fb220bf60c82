// SPDX-License-Identifier: MIT
/* libFuzzer target: the zcrxd.conf parser (inih behind our line reader). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_diags d;
	struct config c;
	char *text = malloc(size + 1);
	FILE *f;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)config_load_string("fuzz.conf", text, &c, &d);
	/* printing must work on whatever was accepted */
	f = fopen("/dev/null", "w");
	if (f) {
		config_print(&c, f);
		fclose(f);
	}
	config_free(&c);
	config_diags_free(&d);
	free(text);
	return 0;
}
