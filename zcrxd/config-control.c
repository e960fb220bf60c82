// SPDX-License-Identifier: MIT
/*
 * config-control — the control socket's keys of [daemon]
 * (config-control.h).  Must not: touch the running daemon.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config-control.h"

#define USEC 1000000ull
#define CONNECTIONS_MAX 4096

void config_control_init(struct config_control *c)
{
	c->max_connections = 64;
	c->max_per_user = 16;
	c->reserved = 8;
	c->read_timeout_usec = 10 * USEC;
	c->write_timeout_usec = 60 * USEC;
	c->idle_timeout_usec = 60 * USEC;
}

static int parse_count(const char *v, unsigned min, unsigned max, unsigned *ret)
{
	unsigned long n;
	char *end;

	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return -EINVAL;
	*ret = (unsigned)n;
	return 0;
}

/* Seconds with at most three decimals ("10", "1.5", "0.25"). */
static int parse_seconds(const char *v, uint64_t min, uint64_t max, uint64_t *ret)
{
	uint64_t sec = 0, ms = 0;
	const char *p = v;
	int digits = 0, decimals = 0;

	for (; isdigit((unsigned char)*p); p++, digits++) {
		if (digits >= 6)
			return -EINVAL;
		sec = sec * 10 + (uint64_t)(*p - '0');
	}
	if (!digits)
		return -EINVAL;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, decimals++) {
			if (decimals >= 3)
				return -EINVAL;
			ms = ms * 10 + (uint64_t)(*p - '0');
		}
		if (!decimals)
			return -EINVAL;
		for (; decimals < 3; decimals++)
			ms *= 10;
	}
	if (*p)
		return -EINVAL;
	sec = sec * USEC + ms * 1000;
	if (sec < min || sec > max)
		return -EINVAL;
	*ret = sec;
	return 0;
}

int config_control_key(struct config_control *c, const char *key, const char *value, char *msg,
		       size_t size)
{
	static const struct {
		const char *key;
		unsigned min, max; /* counts */
		uint64_t tmin, tmax; /* times, usec; 0/0 for counts */
		const char *expect;
	} keys[] = {
		{ "MaxConnections", 4, CONNECTIONS_MAX, 0, 0, "a count, 4..4096" },
		{ "MaxConnectionsPerUser", 1, CONNECTIONS_MAX, 0, 0, "a count, 1..4096" },
		{ "ReservedConnections", 0, CONNECTIONS_MAX - 1, 0, 0, "a count, 0..4095" },
		{ "ReadTimeoutSec", 0, 0, USEC / 10, 300 * USEC, "seconds, 0.1..300" },
		{ "WriteTimeoutSec", 0, 0, USEC / 10, 3600 * USEC, "seconds, 0.1..3600" },
		{ "IdleTimeoutSec", 0, 0, 0, 86400 * USEC, "seconds, 0..86400 (0 = never)" },
	};
	unsigned *counts[] = { &c->max_connections, &c->max_per_user, &c->reserved };
	uint64_t *times[] = { &c->read_timeout_usec, &c->write_timeout_usec, &c->idle_timeout_usec };
	size_t i;
	int r;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(key, keys[i].key))
			continue;
		if (i < 3)
			r = parse_count(value, keys[i].min, keys[i].max, counts[i]);
		else
			r = parse_seconds(value, keys[i].tmin, keys[i].tmax, times[i - 3]);
		if (i == 1 && r == 0)
			c->max_per_user_set = true;
		if (i == 2 && r == 0)
			c->reserved_set = true;
		if (r < 0)
			snprintf(msg, size, "%s='%s': expected %s", key, value, keys[i].expect);
		return r;
	}
	return -ENOENT;
}

const char *config_control_finish(struct config_control *c, char *buf, size_t size)
{
	if (!c->max_per_user_set)
		c->max_per_user = c->max_connections / 2 < 16 ? c->max_connections / 2 : 16;
	if (!c->reserved_set)
		c->reserved = c->max_connections / 8 < 8 ? c->max_connections / 8 : 8;
	if (c->reserved >= c->max_connections) {
		snprintf(buf, size, "ReservedConnections=%u leaves no connection of MaxConnections=%u "
			 "to anyone but root and AdminGroup", c->reserved, c->max_connections);
		return buf;
	}
	if (c->max_per_user > c->max_connections) {
		snprintf(buf, size, "MaxConnectionsPerUser=%u is more than MaxConnections=%u",
			 c->max_per_user, c->max_connections);
		return buf;
	}
	return NULL;
}

static void print_seconds(FILE *f, const char *key, uint64_t usec)
{
	uint64_t ms = (usec % USEC) / 1000;

	fprintf(f, "%s=%llu", key, (unsigned long long)(usec / USEC));
	if (ms) {
		char d[4];
		int n = 3;

		snprintf(d, sizeof(d), "%03llu", (unsigned long long)ms);
		while (n > 1 && d[n - 1] == '0')
			d[--n] = '\0';
		fprintf(f, ".%s", d);
	}
	fputc('\n', f);
}

void config_control_print(const struct config_control *c, FILE *f)
{
	fprintf(f, "MaxConnections=%u\n", c->max_connections);
	fprintf(f, "MaxConnectionsPerUser=%u\n", c->max_per_user);
	fprintf(f, "ReservedConnections=%u\n", c->reserved);
	print_seconds(f, "ReadTimeoutSec", c->read_timeout_usec);
	print_seconds(f, "WriteTimeoutSec", c->write_timeout_usec);
	print_seconds(f, "IdleTimeoutSec", c->idle_timeout_usec);
}
