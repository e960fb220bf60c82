// SPDX-License-Identifier: MIT
/*
 * zxsim — the sim-nic guest's helper (TEST ONLY), linked statically so the
 * guest needs nothing else for it:
 *
 *   zxsim send IFNAME DSTMAC COUNT [udp|tcp|raw] [DSTIP] [DPORT] [SPORT]
 *        write COUNT Ethernet frames through AF_PACKET on IFNAME (a linked
 *        netdevsim port: they arrive on its peer).  IPv4 UDP (default) or
 *        TCP from 198.18.0.1 to DSTIP (198.18.0.2) port DPORT (9000), one
 *        flow per frame: source ports SPORT (40000), SPORT+1, ...; "raw"
 *        is a non-IP frame (ethertype 0x88b5).  COUNT <= 128 (netdevsim's
 *        receive ring is 256 frames).
 *   zxsim counters IFNAME
 *        netdevsim-zx's per-queue counters of IFNAME, as its debugfs says:
 *        "q0=N q1=N ... drop=N" (frames steered to each RX queue, frames a
 *        drop rule took); exit 1 on a driver without them (stock)
 *   zxsim qstats IFNAME | queues IFNAME | devmem IFNAME Q [CMD...]
 *        see zxsim-netdev.c
 *   zxsim zcrx IFNAME Q [CMD...]
 *        see zxsim-zcrx.c
 *   zxsim rss IFNAME
 *        see zxsim-rss.c
 *   zxsim connect PATH SEC [PID]
 *        see zxsim-connect.c
 *
 * Exit status 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hex.h"
#include "zxsim.h"

unsigned zxsim_ifindex(const char *name)
{
	unsigned i = if_nametoindex(name);

	if (!i)
		fprintf(stderr, "zxsim: no interface %s\n", name);
	return i;
}

int zxsim_run(char **argv)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return 127;
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "zxsim: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return 127;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static uint16_t csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

int zxsim_send(int argc, char **argv)
{
	const char *proto = argc > 4 ? argv[4] : "udp";
	const char *dst_ip = argc > 5 ? argv[5] : "198.18.0.2";
	unsigned dport = argc > 6 ? (unsigned)atoi(argv[6]) : 9000;
	unsigned sport = argc > 7 ? (unsigned)atoi(argv[7]) : 40000;
	uint8_t frame[128] = { 0 };
	struct ether_header *eh = (struct ether_header *)frame;
	struct iphdr *ip = (struct iphdr *)(frame + sizeof(*eh));
	uint8_t *l4 = frame + sizeof(*eh) + sizeof(*ip);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	struct in_addr src, dst;
	struct ifreq ifr = { 0 };
	size_t len;
	int count, fd, i, l4len;

	if (argc < 4 || hex_pairs_parse(argv[2], ':', eh->ether_dhost, 6) < 0 ||
	    inet_pton(AF_INET, "198.18.0.1", &src) != 1 || inet_pton(AF_INET, dst_ip, &dst) != 1)
		return 2;
	count = atoi(argv[3]);
	if (count < 1 || count > 128 || !(sll.sll_ifindex = (int)zxsim_ifindex(argv[1])))
		return 2;
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "zxsim: send on %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	memcpy(eh->ether_shost, ifr.ifr_hwaddr.sa_data, 6);
	memcpy(sll.sll_addr, eh->ether_dhost, 6);
	for (i = 0; i < count; i++) {
		uint16_t sp = htons((uint16_t)(sport + (unsigned)i)), dp = htons((uint16_t)dport);

		if (!strcmp(proto, "raw")) {
			eh->ether_type = htons(0x88b5);
			len = 64;
		} else {
			int tcp = !strcmp(proto, "tcp");

			if (!tcp && strcmp(proto, "udp"))
				return 2;
			l4len = tcp ? 20 : 8;
			eh->ether_type = htons(ETHERTYPE_IP);
			memset(ip, 0, sizeof(*ip));
			ip->version = 4;
			ip->ihl = 5;
			ip->ttl = 64;
			ip->protocol = tcp ? IPPROTO_TCP : IPPROTO_UDP;
			ip->tot_len = htons((uint16_t)(sizeof(*ip) + (size_t)l4len + 18));
			ip->id = htons((uint16_t)i);
			ip->saddr = src.s_addr;
			ip->daddr = dst.s_addr;
			ip->check = csum(ip, sizeof(*ip));
			memset(l4, 0, (size_t)l4len);
			memcpy(l4, &sp, 2);
			memcpy(l4 + 2, &dp, 2);
			if (tcp) {
				l4[12] = 5 << 4; /* data offset */
				l4[13] = 0x10;   /* ACK */
			} else {
				uint16_t ulen = htons((uint16_t)(8 + 18));

				memcpy(l4 + 4, &ulen, 2);
			}
			len = sizeof(*eh) + sizeof(*ip) + (size_t)l4len + 18;
		}
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			fprintf(stderr, "zxsim: send on %s, frame %d: %s\n", argv[1], i, strerror(errno));
			close(fd);
			return 1;
		}
	}
	close(fd);
	return 0;
}

int zxsim_counters(int argc, char **argv)
{
	char path[512], link[256], port[32] = "p1", line[1024];
	const char *dev;
	ssize_t n;
	FILE *f;

	if (argc != 2)
		return 2;
	snprintf(path, sizeof(path), "/sys/class/net/%s/device", argv[1]);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		fprintf(stderr, "zxsim: %s: %s\n", path, strerror(errno));
		return 1;
	}
	link[n] = '\0';
	dev = basename(link);
	snprintf(path, sizeof(path), "/sys/class/net/%s/phys_port_name", argv[1]);
	f = fopen(path, "re");
	if (f) {
		if (!fgets(port, sizeof(port), f))
			snprintf(port, sizeof(port), "p1");
		fclose(f);
	}
	/* phys_port_name "pN" is devlink's port number, the port index + 1 */
	snprintf(path, sizeof(path), "/sys/kernel/debug/netdevsim/%s/ports/%d/zx/rx_queues", dev,
		 atoi(port + 1) - 1);
	f = fopen(path, "re");
	if (!f || !fgets(line, sizeof(line), f)) {
		fprintf(stderr, "zxsim: %s: %s (not netdevsim-zx?)\n", path, strerror(errno));
		if (f)
			fclose(f);
		return 1;
	}
	fclose(f);
	fputs(line, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} verbs[] = {
		{ "send", zxsim_send },	    { "counters", zxsim_counters },
		{ "queues", zxsim_queues }, { "qstats", zxsim_qstats },
		{ "devmem", zxsim_devmem }, { "zcrx", zxsim_zcrx },
		{ "rss", zxsim_rss },	    { "connect", zxsim_connect },
	};
	size_t i;
	int r;

	for (i = 0; argc > 1 && i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[1], verbs[i].name))
			continue;
		r = verbs[i].fn(argc - 1, argv + 1);
		if (r == 2)
			fprintf(stderr, "zxsim %s: bad arguments (see tests/sim-nic/tools/zxsim.c)\n",
				argv[1]);
		return r;
	}
	fprintf(stderr, "usage: zxsim send|counters|queues|qstats|rss|devmem|zcrx|connect ...\n");
	return 2;
}
