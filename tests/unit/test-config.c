// SPDX-License-Identifier: MIT
/* Unit tests: zcrxd.conf parsing, validation, drop-ins, printing (zcrxd/config.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static bool has_diag(const struct config_diags *d, const char *file, unsigned line, const char *needle)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if ((!file || !strcmp(d->v[i].file, file)) && d->v[i].line == line &&
		    strstr(d->v[i].msg, needle))
			return true;
	return false;
}

static void dump(const struct config_diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		fprintf(stderr, "  diag %s:%u: %s\n", d->v[i].file, d->v[i].line, d->v[i].msg);
}

static void test_defaults(void **state)
{
	struct config c;
	struct config_diags d;
	struct config_nic n;

	assert_int_equal(config_load_string("empty.conf", "", &c, &d), 0);
	assert_string_equal(c.libvirt_uri, "qemu:///system");
	assert_int_equal(c.autoattach, CONFIG_AUTOATTACH_METADATA);
	assert_null(c.socket_group);
	assert_null(c.admin_group);
	assert_int_equal(c.reconcile_interval_sec, 30);
	assert_false(c.hook_strict);
	assert_int_equal(c.n_nics, 0);
	/* no [nic] sections: zcrxd manages no NIC */
	assert_false(config_nic_policy(&c, "eth0", &n));
	config_free(&c);
	config_diags_free(&d);
}

static void test_every_key(void **state)
{
	const char *text = "# comment\n"
			   "; another\n"
			   "[daemon]\n"
			   "LibvirtURI=qemu+unix:///system?socket=/tmp/x\n"
			   "AutoAttach=direct\n"
			   "SocketGroup=root\n"
			   "AdminGroup=root\n"
			   "ReconcileIntervalSec=7\n"
			   "HookStrict=yes\n"
			   "\n"
			   "[nic *]\n"
			   "ReserveQueues=2\n"
			   "Steering=ip\n"
			   "Fallback=drop\n"
			   "[nic eth0]\n"
			   "ReserveQueues=6-7, 3\n"
			   "Channels=8\n"
			   "Steering=mac,ip\n"
			   "HeaderSplit=on\n"
			   "OnExhaustion=fail\n";
	struct config c;
	struct config_diags d;
	struct config_nic n;

	assert_int_equal(config_load_string("t.conf", text, &c, &d), 0);
	assert_string_equal(c.libvirt_uri, "qemu+unix:///system?socket=/tmp/x");
	assert_int_equal(c.autoattach, CONFIG_AUTOATTACH_DIRECT);
	assert_string_equal(c.socket_group, "root");
	assert_string_equal(c.admin_group, "root");
	assert_int_equal(c.reconcile_interval_sec, 7);
	assert_true(c.hook_strict);

	assert_true(config_nic_policy(&c, "eth0", &n));
	assert_int_equal(n.n_reserve_list, 3);
	assert_int_equal(n.reserve_list[0], 3);
	assert_int_equal(n.reserve_list[1], 6);
	assert_int_equal(n.reserve_list[2], 7);
	assert_int_equal(n.channels, 8);
	assert_int_equal(n.n_steering, 2);
	assert_int_equal(n.steering[0], CONFIG_STEERING_MAC);
	assert_int_equal(n.steering[1], CONFIG_STEERING_IP);
	assert_int_equal(n.header_split, CONFIG_HEADER_SPLIT_ON);
	assert_int_equal(n.on_exhaustion, CONFIG_ON_EXHAUSTION_FAIL);
	/* not set in [nic eth0]: comes from [nic *] */
	assert_int_equal(n.fallback, CONFIG_FALLBACK_DROP);

	/* a NIC without its own section gets [nic *] */
	assert_true(config_nic_policy(&c, "eth9", &n));
	assert_null(n.reserve_list);
	assert_int_equal(n.reserve_count, 2);
	assert_int_equal(n.n_steering, 1);
	assert_int_equal(n.steering[0], CONFIG_STEERING_IP);
	assert_int_equal(n.header_split, CONFIG_HEADER_SPLIT_AUTO);
	assert_true(config_nic_is_named(&c, "eth0"));
	assert_false(config_nic_is_named(&c, "eth9"));
	config_free(&c);
	config_diags_free(&d);
}

static void test_all_errors_reported(void **state)
{
	const char *text = "[daemon]\n"                  /* 1 */
			   "AutoAttach=sometimes\n"      /* 2 */
			   "Bogus=1\n"                   /* 3 */
			   "ReconcileIntervalSec=-5\n"   /* 4 */
			   "HookStrict=maybe\n"          /* 5 */
			   "no equals sign here\n"       /* 6 */
			   "[nic eth0\n"                 /* 7 */
			   "[weird]\n"                   /* 8 */
			   "[nic eth0]\n"                /* 9 */
			   "ReserveQueues=x\n"           /* 10 */
			   "Channels=lots\n"             /* 11 */
			   "Steering=mac,mac\n"          /* 12 */
			   "HeaderSplit=maybe\n"         /* 13 */
			   "OnExhaustion=panic\n"        /* 14 */
			   "Fallback=none\n"             /* 15 */
			   "  Indented=1\n"              /* 16 */
			   "[nic a/b]\n"                 /* 17 */
			   "AdminGroup=no-such-group-zx\n" /* 18: in [nic a/b], skipped */
			   "[daemon]\n"                  /* 19 */
			   "AdminGroup=no-such-group-zx\n" /* 20 */
			   "LibvirtURI=\n"               /* 21 */
			   "=value\n"                    /* 22 */
			   "[nic]\n"                     /* 23 */
			   "[nic eth1]\n"                /* 24 */
			   "Steering=carrier-pigeon\n"   /* 25 */
			   "ReserveQueues=5-2\n";        /* 26 */
	struct config c;
	struct config_diags d;

	assert_int_equal(config_load_string("bad.conf", text, &c, &d), -EINVAL);
	dump(&d);
	assert_true(has_diag(&d, "bad.conf", 2, "AutoAttach='sometimes'"));
	assert_true(has_diag(&d, "bad.conf", 3, "unknown key 'Bogus'"));
	assert_true(has_diag(&d, "bad.conf", 4, "ReconcileIntervalSec"));
	assert_true(has_diag(&d, "bad.conf", 5, "HookStrict"));
	assert_true(has_diag(&d, "bad.conf", 6, "expected Key=Value"));
	assert_true(has_diag(&d, "bad.conf", 7, "not closed"));
	assert_true(has_diag(&d, "bad.conf", 8, "unknown section [weird]"));
	assert_true(has_diag(&d, "bad.conf", 10, "ReserveQueues='x'"));
	assert_true(has_diag(&d, "bad.conf", 11, "Channels='lots'"));
	assert_true(has_diag(&d, "bad.conf", 12, "given twice"));
	assert_true(has_diag(&d, "bad.conf", 13, "HeaderSplit='maybe'"));
	assert_true(has_diag(&d, "bad.conf", 14, "OnExhaustion='panic'"));
	assert_true(has_diag(&d, "bad.conf", 15, "Fallback='none'"));
	assert_true(has_diag(&d, "bad.conf", 16, "whitespace"));
	assert_true(has_diag(&d, "bad.conf", 17, "not a valid interface name"));
	assert_true(has_diag(&d, "bad.conf", 20, "no such group"));
	assert_true(has_diag(&d, "bad.conf", 21, "LibvirtURI= must not be empty"));
	assert_true(has_diag(&d, "bad.conf", 22, "missing key"));
	assert_true(has_diag(&d, "bad.conf", 23, "needs an interface name"));
	assert_true(has_diag(&d, "bad.conf", 25, "unknown method 'carrier-pigeon'"));
	assert_true(has_diag(&d, "bad.conf", 26, "bad queue or range"));
	assert_int_equal(d.n, 21);
	config_free(&c);
	config_diags_free(&d);
}

static void test_cross_key_validation(void **state)
{
	struct config c;
	struct config_diags d;

	assert_int_equal(config_load_string("x.conf", "[nic eth0]\nReserveQueues=4\nChannels=4\n", &c, &d),
			 -EINVAL);
	assert_true(has_diag(&d, "x.conf", 0, "leaves no shared queue"));
	config_free(&c);
	config_diags_free(&d);
	assert_int_equal(config_load_string("x.conf", "[nic eth0]\nReserveQueues=2,9\nChannels=8\n", &c, &d),
			 -EINVAL);
	assert_true(has_diag(&d, "x.conf", 0, "names queue 9 but Channels=8"));
	config_free(&c);
	config_diags_free(&d);
	/* a list of one queue */
	assert_int_equal(config_load_string("x.conf", "[nic eth0]\nReserveQueues=7,\n", &c, &d), 0);
	assert_int_equal(c.nics[0].n_reserve_list, 1);
	assert_int_equal(c.nics[0].reserve_list[0], 7);
	config_free(&c);
	config_diags_free(&d);
}

static void test_long_and_binary_lines(void **state)
{
	char text[1200];
	struct config c;
	struct config_diags d;

	snprintf(text, sizeof(text), "[daemon]\nLibvirtURI=%0900d\nAutoAttach=none\n", 1);
	assert_int_equal(config_load_string("long.conf", text, &c, &d), -EINVAL);
	assert_true(has_diag(&d, "long.conf", 2, "line too long"));
	/* the line after the long one is still read */
	assert_int_equal(c.autoattach, CONFIG_AUTOATTACH_NONE);
	assert_int_equal(d.n, 1);
	config_free(&c);
	config_diags_free(&d);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_dropins(void **state)
{
	char dir[] = "/tmp/zxc-config-XXXXXX", path[256], dpath[256], f[300];
	struct config c;
	struct config_diags d;
	struct config_nic n;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/zcrxd.conf", dir);
	snprintf(dpath, sizeof(dpath), "%s/zcrxd.conf.d", dir);
	write_file(path, "[daemon]\nAutoAttach=none\nReconcileIntervalSec=10\n[nic eth0]\nReserveQueues=1\n");
	assert_int_equal(mkdir(dpath, 0755), 0);
	/* lexical order: 10-a overrides the main file, 20-b overrides 10-a */
	snprintf(f, sizeof(f), "%s/20-b.conf", dpath);
	write_file(f, "[daemon]\nAutoAttach=metadata\n[nic eth0]\nChannels=8\n");
	snprintf(f, sizeof(f), "%s/10-a.conf", dpath);
	write_file(f, "[daemon]\nAutoAttach=direct\nReconcileIntervalSec=20\n[nic eth0]\nReserveQueues=3\n");
	snprintf(f, sizeof(f), "%s/ignored.txt", dpath);
	write_file(f, "garbage that is not read\n");

	assert_int_equal(config_load(path, false, &c, &d), 0);
	assert_int_equal(c.autoattach, CONFIG_AUTOATTACH_METADATA);
	assert_int_equal(c.reconcile_interval_sec, 20);
	assert_true(config_nic_policy(&c, "eth0", &n));
	assert_int_equal(n.reserve_count, 3);
	assert_int_equal(n.channels, 8);
	assert_int_equal(c.n_files, 3);
	assert_string_equal(c.files[0], path);
	assert_non_null(strstr(c.files[1], "10-a.conf"));
	assert_non_null(strstr(c.files[2], "20-b.conf"));
	config_free(&c);
	config_diags_free(&d);

	/* errors in a drop-in name the drop-in and its line */
	snprintf(f, sizeof(f), "%s/30-c.conf", dpath);
	write_file(f, "[daemon]\n\nAutoAttach=always\n");
	assert_int_equal(config_load(path, false, &c, &d), -EINVAL);
	assert_true(has_diag(&d, f, 3, "AutoAttach='always'"));
	config_free(&c);
	config_diags_free(&d);

	/* a missing main file: error unless allowed */
	unlink(path);
	assert_int_equal(config_load(path, false, &c, &d), -EINVAL);
	assert_true(has_diag(&d, path, 0, "cannot read"));
	config_free(&c);
	config_diags_free(&d);
	unlink(f);
	assert_int_equal(config_load(path, true, &c, &d), 0);
	config_free(&c);
	config_diags_free(&d);

	snprintf(f, sizeof(f), "%s/10-a.conf", dpath);
	unlink(f);
	snprintf(f, sizeof(f), "%s/20-b.conf", dpath);
	unlink(f);
	snprintf(f, sizeof(f), "%s/ignored.txt", dpath);
	unlink(f);
	rmdir(dpath);
	rmdir(dir);
}

/* A [nic NAME] section without keys names its NIC (with [nic *]'s defaults):
 * since [nic *] claims nothing, that is how a NIC is put under management
 * with the defaults. */
static void test_empty_nic_section_names_the_nic(void **state)
{
	struct config c;
	struct config_diags d;
	struct config_nic pol;

	assert_int_equal(config_load_string("e.conf", "[nic *]\nChannels=4\n[nic eth0]\n[nic *]\n",
					    &c, &d), 0);
	config_diags_free(&d);
	assert_true(config_nic_is_named(&c, "eth0"));
	assert_false(config_nic_is_named(&c, "eth1"));
	assert_true(config_nic_policy(&c, "eth0", &pol));
	assert_int_equal(pol.channels, 4);
	assert_int_equal(c.n_nics, 1);
	config_free(&c);
	(void)state;
}

static void test_print_round_trip(void **state)
{
	const char *text = "[daemon]\nAutoAttach=direct\n[nic *]\nFallback=drop\n"
			   "[nic eth0]\nReserveQueues=6-7\nChannels=8\nSteering=ip,mac\n"
			   "[nic eth1]\nReserveQueues=5,\n";
	struct config c, c2;
	struct config_diags d;
	char *buf = NULL, *buf2 = NULL;
	size_t len = 0, len2 = 0;
	FILE *f;

	assert_int_equal(config_load_string("a.conf", text, &c, &d), 0);
	config_diags_free(&d);
	f = open_memstream(&buf, &len);
	config_print(&c, f);
	fclose(f);
	assert_non_null(strstr(buf, "[nic eth0]\nReserveQueues=6,7\nChannels=8\nSteering=ip,mac\n"
				    "HeaderSplit=auto\nOnExhaustion=degrade\nFallback=drop\n"));
	assert_non_null(strstr(buf, "ReserveQueues=5,\n"));
	/* the printed form parses to the same printed form */
	assert_int_equal(config_load_string("b.conf", buf, &c2, &d), 0);
	config_diags_free(&d);
	f = open_memstream(&buf2, &len2);
	config_print(&c2, f);
	fclose(f);
	assert_string_equal(buf, buf2);
	free(buf);
	free(buf2);
	config_free(&c);
	config_free(&c2);
}

static char *printed(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	config_print(c, f);
	fclose(f);
	return buf;
}

/* The control socket's limits: bounded, defaults that follow
 * MaxConnections=, what they say together, printed so they parse back. */
static void test_control_socket_keys(void **state)
{
	struct config c, c2;
	struct config_diags d;
	char *buf, *buf2;

	assert_int_equal(config_load_string("a.conf", "", &c, &d), 0);
	assert_int_equal(c.control.max_connections, 64);
	assert_int_equal(c.control.max_per_user, 16);
	assert_int_equal(c.control.reserved, 8);
	assert_int_equal(c.control.read_timeout_usec, 10000000);
	assert_int_equal(c.control.write_timeout_usec, 60000000);
	assert_int_equal(c.control.idle_timeout_usec, 60000000);
	config_free(&c);
	config_diags_free(&d);

	assert_int_equal(config_load_string("a.conf", "[daemon]\nMaxConnections=6\n"
					    "ReadTimeoutSec=1.5\nIdleTimeoutSec=0\n"
					    "WriteTimeoutSec=0.25\n", &c, &d), 0);
	assert_int_equal(c.control.max_per_user, 3); /* half of 6 */
	assert_int_equal(c.control.reserved, 0);     /* an eighth of 6 */
	assert_int_equal(c.control.read_timeout_usec, 1500000);
	assert_int_equal(c.control.write_timeout_usec, 250000);
	assert_int_equal(c.control.idle_timeout_usec, 0);
	buf = printed(&c);
	assert_non_null(strstr(buf, "MaxConnections=6\nMaxConnectionsPerUser=3\n"
				    "ReservedConnections=0\nReadTimeoutSec=1.5\n"
				    "WriteTimeoutSec=0.25\nIdleTimeoutSec=0\n"));
	assert_int_equal(config_load_string("b.conf", buf, &c2, &d), 0);
	buf2 = printed(&c2);
	assert_string_equal(buf, buf2);
	free(buf);
	free(buf2);
	config_free(&c);
	config_free(&c2);
	config_diags_free(&d);

	assert_int_equal(config_load_string("c.conf", "[daemon]\nMaxConnections=3\n"
					    "MaxConnectionsPerUser=0\nReservedConnections=x\n"
					    "ReadTimeoutSec=0.05\nWriteTimeoutSec=1.2345\n"
					    "IdleTimeoutSec=-1\nReadTimeoutSec=301\n", &c, &d),
			 -EINVAL);
	if (d.n != 7)
		dump(&d);
	assert_int_equal(d.n, 7);
	assert_true(has_diag(&d, "c.conf", 2, "MaxConnections='3': expected a count, 4..4096"));
	assert_true(has_diag(&d, "c.conf", 3, "MaxConnectionsPerUser='0'"));
	assert_true(has_diag(&d, "c.conf", 4, "ReservedConnections='x'"));
	assert_true(has_diag(&d, "c.conf", 5, "expected seconds, 0.1..300"));
	assert_true(has_diag(&d, "c.conf", 6, "WriteTimeoutSec='1.2345'"));
	assert_true(has_diag(&d, "c.conf", 7, "IdleTimeoutSec='-1'"));
	assert_true(has_diag(&d, "c.conf", 8, "ReadTimeoutSec='301'"));
	config_free(&c);
	config_diags_free(&d);

	assert_int_equal(config_load_string("d.conf", "[daemon]\nMaxConnections=8\n"
					    "ReservedConnections=8\nMaxConnectionsPerUser=9\n", &c, &d),
			 -EINVAL);
	assert_true(has_diag(&d, "d.conf", 0, "ReservedConnections=8 leaves no connection"));
	config_free(&c);
	config_diags_free(&d);
	assert_int_equal(config_load_string("e.conf", "[daemon]\nMaxConnections=8\n"
					    "MaxConnectionsPerUser=9\n", &c, &d), -EINVAL);
	assert_true(has_diag(&d, "e.conf", 0, "MaxConnectionsPerUser=9 is more than"));
	config_free(&c);
	config_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_cross_key_validation),
		cmocka_unit_test(test_long_and_binary_lines),
		cmocka_unit_test(test_dropins),
		cmocka_unit_test(test_print_round_trip),
		cmocka_unit_test(test_empty_nic_section_names_the_nic),
		cmocka_unit_test(test_control_socket_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
