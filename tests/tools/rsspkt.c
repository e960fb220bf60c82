// SPDX-License-Identifier: MIT
/*
 * rsspkt — packet helper of the driver-VM tier (tests/driver-vm/).
 *
 *   rsspkt send IFNAME DSTMAC COUNT [SPORT]
 *	Host side: writes COUNT UDP/IPv4 frames (198.18.0.1 -> 198.18.0.2,
 *	source ports SPORT, SPORT+1, ..., default 10000, destination port 9)
 *	into IFNAME through an AF_PACKET socket.  IFNAME is the host end of a
 *	guest NIC's tap, so the frames arrive on the guest's RX path, where
 *	the NIC (QEMU's virtio-net RSS) picks a queue for each.
 *   rsspkt predict KEYHEX FIELDS INDIR COUNT [SPORT]
 *	Either side: which queue each of those frames must land on with the
 *	given Toeplitz key (hex, ':' separators allowed), hash input FIELDS
 *	("sd" = IPv4 addresses, "sdfn" = addresses and UDP ports) and
 *	indirection table INDIR (comma-separated queue per bucket).  Prints
 *	"qN=COUNT" for every queue in INDIR.
 *   rsspkt qstats IFNAME
 *	Guest side: per-RX-queue packet counters of IFNAME from netdev
 *	genetlink qstats-get, as "qN=COUNT" words.  A second opinion next to
 *	the project's own NIC layer, written independently of it.
 *
 * Owns: nothing of the daemon; it is a test tool.  Must not: be linked into or
 * used by production code.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hex.h"

/* netdev genetlink (6.9+ for qstats; the host's 6.1 headers lack it). */
#define ZXV_NETDEV_CMD_QSTATS_GET 12
#define ZXV_NETDEV_A_QSTATS_IFINDEX 1
#define ZXV_NETDEV_A_QSTATS_QUEUE_TYPE 2
#define ZXV_NETDEV_A_QSTATS_QUEUE_ID 3
#define ZXV_NETDEV_A_QSTATS_SCOPE 4
#define ZXV_NETDEV_A_QSTATS_RX_PACKETS 8
#define ZXV_NETDEV_QSTATS_SCOPE_QUEUE 1
#define ZXV_NETDEV_QUEUE_TYPE_RX 0

#define FRAME_LEN 60
#define MAX_QUEUES 256
#define MAX_INDIR 4096
#define MAX_KEY 128

static const uint8_t src_ip[4] = { 198, 18, 0, 1 };
static const uint8_t dst_ip[4] = { 198, 18, 0, 2 };
static const uint16_t dst_port = 9;

static int usage(void)
{
	fprintf(stderr, "usage: rsspkt send IFNAME DSTMAC COUNT [SPORT]\n"
			"       rsspkt predict KEYHEX sd|sdfn INDIR COUNT [SPORT]\n"
			"       rsspkt qstats IFNAME\n");
	return 2;
}

static int parse_u32(const char *s, uint32_t max, uint32_t *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

static uint16_t ip_csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* One test frame: Ethernet + IPv4 + UDP (4 payload bytes), padded to 60. */
static void build_frame(uint8_t f[FRAME_LEN], const uint8_t dst_mac[6], uint16_t sport)
{
	static const uint8_t src_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 };
	uint8_t *ip = f + 14, *udp = ip + 20;
	uint16_t c;

	memset(f, 0, FRAME_LEN);
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	f[12] = 0x08; /* ETH_P_IP */
	ip[0] = 0x45;
	ip[3] = 32; /* total length: 20 + 8 + 4 */
	ip[8] = 64; /* TTL */
	ip[9] = 17; /* UDP */
	memcpy(ip + 12, src_ip, 4);
	memcpy(ip + 16, dst_ip, 4);
	c = ip_csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	udp[0] = (uint8_t)(sport >> 8);
	udp[1] = (uint8_t)sport;
	udp[2] = (uint8_t)(dst_port >> 8);
	udp[3] = (uint8_t)dst_port;
	udp[5] = 12; /* UDP length; checksum 0 = none */
	memcpy(udp + 8, "zxv!", 4);
}

static int cmd_send(int argc, char **argv)
{
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_halen = 6 };
	uint8_t mac[6], f[FRAME_LEN];
	uint32_t count, sport = 10000;
	int fd;

	if (argc < 3 || argc > 4)
		return usage();
	if (hex_pairs_parse(argv[1], ':', mac, 6) < 0 ||
	    parse_u32(argv[2], 1000000, &count) || (argc == 4 && parse_u32(argv[3], 65535, &sport)) ||
	    sport + count > 65536)
		return usage();
	sa.sll_ifindex = (int)if_nametoindex(argv[0]);
	if (!sa.sll_ifindex) {
		fprintf(stderr, "rsspkt: %s: %s\n", argv[0], strerror(errno));
		return 1;
	}
	memcpy(sa.sll_addr, mac, 6);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("rsspkt: socket(AF_PACKET)");
		return 1;
	}
	for (uint32_t i = 0; i < count; i++) {
		build_frame(f, mac, (uint16_t)(sport + i));
		for (;;) {
			if (sendto(fd, f, sizeof(f), 0, (struct sockaddr *)&sa, sizeof(sa)) ==
			    (ssize_t)sizeof(f))
				break;
			/* A full tap queue (the guest is slow under TCG): back off. */
			if (errno != ENOBUFS && errno != EAGAIN) {
				fprintf(stderr, "rsspkt: sendto %s: %s\n", argv[0], strerror(errno));
				close(fd);
				return 1;
			}
			nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
		}
	}
	close(fd);
	printf("sent %u\n", count);
	return 0;
}

/* Toeplitz hash as in the Microsoft RSS specification. */
static uint32_t toeplitz(const uint8_t *key, size_t key_len, const uint8_t *in, size_t n)
{
	uint32_t hash = 0, window;
	size_t next = 4; /* next key byte to shift in */

	window = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
	for (size_t i = 0; i < n; i++) {
		uint8_t kb = next < key_len ? key[next] : 0;

		for (int bit = 7; bit >= 0; bit--) {
			if (in[i] & (1u << bit))
				hash ^= window;
			window = window << 1 | ((kb >> bit) & 1u);
		}
		next++;
	}
	return hash;
}

static int parse_key(const char *s, uint8_t *key, size_t *ret_len)
{
	size_t n = 0;

	while (*s) {
		int v;

		if (*s == ':') {
			s++;
			continue;
		}
		v = hex_byte(s);
		if (n == MAX_KEY || v < 0)
			return -EINVAL;
		key[n++] = (uint8_t)v;
		s += 2;
	}
	if (n < 4 + 12)
		return -EINVAL;
	*ret_len = n;
	return 0;
}

static int cmd_predict(int argc, char **argv)
{
	static uint32_t indir[MAX_INDIR];
	static uint64_t hits[MAX_QUEUES];
	uint8_t key[MAX_KEY], in[12];
	uint32_t n_indir = 0, count, sport = 10000, max_q = 0;
	size_t key_len, in_len;
	char *list, *tok, *save = NULL;

	if (argc < 4 || argc > 5)
		return usage();
	if (parse_key(argv[0], key, &key_len)) {
		fprintf(stderr, "rsspkt: bad key %s\n", argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "sd"))
		in_len = 8;
	else if (!strcmp(argv[1], "sdfn"))
		in_len = 12;
	else
		return usage();
	list = strdup(argv[2]);
	if (!list)
		return 1;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n_indir == MAX_INDIR || parse_u32(tok, MAX_QUEUES - 1, &indir[n_indir])) {
			free(list);
			return usage();
		}
		if (indir[n_indir] > max_q)
			max_q = indir[n_indir];
		n_indir++;
	}
	free(list);
	if (!n_indir || parse_u32(argv[3], 1000000, &count) ||
	    (argc == 5 && parse_u32(argv[4], 65535, &sport)) || sport + count > 65536)
		return usage();

	memcpy(in, src_ip, 4);
	memcpy(in + 4, dst_ip, 4);
	in[10] = (uint8_t)(dst_port >> 8);
	in[11] = (uint8_t)dst_port;
	for (uint32_t i = 0; i < count; i++) {
		uint16_t p = (uint16_t)(sport + i);

		in[8] = (uint8_t)(p >> 8);
		in[9] = (uint8_t)p;
		hits[indir[toeplitz(key, key_len, in, in_len) % n_indir]]++;
	}
	for (uint32_t q = 0; q <= max_q; q++)
		printf("%sq%u=%llu", q ? " " : "", q, (unsigned long long)hits[q]);
	printf("\n");
	return 0;
}

/* --- qstats over netdev genetlink ------------------------------------------ */

struct qstats {
	int ifindex;
	uint64_t rx[MAX_QUEUES];
	uint32_t n;
	uint16_t family;
};

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct qstats *qs = data;
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
			qs->family = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

static uint64_t attr_uint(const struct nlattr *a)
{
	return mnl_attr_get_payload_len(a) == 8 ? mnl_attr_get_u64(a) : mnl_attr_get_u32(a);
}

static int qstats_cb(const struct nlmsghdr *nlh, void *data)
{
	struct qstats *qs = data;
	struct nlattr *a;
	int ifindex = 0;
	uint32_t type = ~0u, id = ~0u;
	uint64_t pkts = 0;
	int have = 0;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(a)) {
		case ZXV_NETDEV_A_QSTATS_IFINDEX:
			ifindex = (int)mnl_attr_get_u32(a);
			break;
		case ZXV_NETDEV_A_QSTATS_QUEUE_TYPE:
			type = mnl_attr_get_u32(a);
			break;
		case ZXV_NETDEV_A_QSTATS_QUEUE_ID:
			id = mnl_attr_get_u32(a);
			break;
		case ZXV_NETDEV_A_QSTATS_RX_PACKETS:
			pkts = attr_uint(a);
			have = 1;
			break;
		}
	}
	if (ifindex == qs->ifindex && type == ZXV_NETDEV_QUEUE_TYPE_RX && id < MAX_QUEUES && have) {
		qs->rx[id] = pkts;
		if (id + 1 > qs->n)
			qs->n = id + 1;
	}
	return MNL_CB_OK;
}

static int genl_run(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	static char buf[1 << 16];
	uint32_t portid = mnl_socket_get_portid(nl), seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
	} while (ret > 0);
	return ret < 0 ? -errno : 0;
}

static int cmd_qstats(int argc, char **argv)
{
	static char buf[8192];
	struct qstats qs = { 0 };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	int ret;

	if (argc != 1)
		return usage();
	qs.ifindex = (int)if_nametoindex(argv[0]);
	if (!qs.ifindex) {
		fprintf(stderr, "rsspkt: %s: %s\n", argv[0], strerror(errno));
		return 1;
	}
	nl = mnl_socket_open(NETLINK_GENERIC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("rsspkt: netlink");
		return 1;
	}

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "netdev");
	ret = genl_run(nl, nlh, family_cb, &qs);
	if (ret < 0 || !qs.family) {
		fprintf(stderr, "rsspkt: netdev family: %s\n", strerror(ret ? -ret : ENOENT));
		mnl_socket_close(nl);
		return 1;
	}

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = qs.family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 2;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = ZXV_NETDEV_CMD_QSTATS_GET;
	g->version = 1;
	mnl_attr_put_u32(nlh, ZXV_NETDEV_A_QSTATS_IFINDEX, (uint32_t)qs.ifindex);
	mnl_attr_put_u32(nlh, ZXV_NETDEV_A_QSTATS_SCOPE, ZXV_NETDEV_QSTATS_SCOPE_QUEUE);
	ret = genl_run(nl, nlh, qstats_cb, &qs);
	mnl_socket_close(nl);
	if (ret < 0) {
		fprintf(stderr, "rsspkt: qstats-get %s: %s\n", argv[0], strerror(-ret));
		return 1;
	}
	for (uint32_t q = 0; q < qs.n; q++)
		printf("%sq%u=%llu", q ? " " : "", q, (unsigned long long)qs.rx[q]);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "send"))
		return cmd_send(argc - 2, argv + 2);
	if (!strcmp(argv[1], "predict"))
		return cmd_predict(argc - 2, argv + 2);
	if (!strcmp(argv[1], "qstats"))
		return cmd_qstats(argc - 2, argv + 2);
	return usage();
}
