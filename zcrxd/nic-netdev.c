// SPDX-License-Identifier: MIT
/*
 * nic-netdev — netdev generic netlink reads and the IRQ -> CPU -> NUMA
 * lookup (nic-netdev.h).  Read-only; must not log.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nic-netdev.h"
#include "nic-uapi.h"

static char proc_root[256] = "/proc";
static char sys_root[256] = "/sys";

void nic_netdev_set_roots(const char *procfs, const char *sysfs)
{
	snprintf(proc_root, sizeof(proc_root), "%s", procfs ? procfs : "/proc");
	snprintf(sys_root, sizeof(sys_root), "%s", sysfs ? sysfs : "/sys");
}

int nic_netdev_init(struct nic_netdev *nd, struct genl_sock *s, struct kerror *err)
{
	int r;

	nd->s = s;
	r = genl_resolve(s, ZX_NETDEV_GENL_NAME, &nd->fam, err);
	if (r < 0)
		memset(&nd->fam, 0, sizeof(nd->fam));
	return r;
}

bool nic_netdev_has(const struct nic_netdev *nd, uint8_t cmd)
{
	return nd->fam.id && genl_family_has_op(&nd->fam, cmd);
}

static struct nlmsghdr *start(struct nic_netdev *nd, uint8_t cmd, uint16_t flags)
{
	return genl_msg_start(nd->s, nd->fam.id, flags, cmd, ZX_NETDEV_GENL_VERSION);
}

static uint8_t msg_cmd(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

	return mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN ? 0 : g->cmd;
}

/* ---- decoders ------------------------------------------------------------ */

static int get_ifindex(const struct nlattr *a, int *ret)
{
	uint32_t v;

	if (!genl_attr_u32(a, &v) || !v || v > INT32_MAX)
		return -EBADMSG;
	*ret = (int)v;
	return 0;
}

int nic_netdev_msg_ifindex(const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[ZX_NETDEV_A_DEV_MAX + 1];
	int idx;

	genl_attrs_msg(nlh, GENL_HDRLEN, tb, ZX_NETDEV_A_DEV_MAX);
	return get_ifindex(tb[ZX_NETDEV_A_DEV_IFINDEX], &idx) < 0 ? -ENODATA : idx;
}

int nic_netdev_pp_msg_ifindex(const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[ZX_NETDEV_A_PAGE_POOL_MAX + 1];
	int idx;

	genl_attrs_msg(nlh, GENL_HDRLEN, tb, ZX_NETDEV_A_PAGE_POOL_MAX);
	return get_ifindex(tb[ZX_NETDEV_A_PAGE_POOL_IFINDEX], &idx) < 0 ? -ENODATA : idx;
}

int nic_netdev_parse_dev(const struct nlmsghdr *nlh, struct nic_netdev_dev *ret)
{
	const struct nlattr *tb[ZX_NETDEV_A_DEV_MAX + 1];

	memset(ret, 0, sizeof(*ret));
	genl_attrs_msg(nlh, GENL_HDRLEN, tb, ZX_NETDEV_A_DEV_MAX);
	if (get_ifindex(tb[ZX_NETDEV_A_DEV_IFINDEX], &ret->ifindex) < 0)
		return -EBADMSG;
	(void)genl_attr_u64(tb[ZX_NETDEV_A_DEV_XDP_FEATURES], &ret->xdp_features);
	(void)genl_attr_u64(tb[ZX_NETDEV_A_DEV_XDP_RX_METADATA_FEATURES],
			    &ret->xdp_rx_metadata_features);
	(void)genl_attr_u64(tb[ZX_NETDEV_A_DEV_XSK_FEATURES], &ret->xsk_features);
	(void)genl_attr_u32(tb[ZX_NETDEV_A_DEV_XDP_ZC_MAX_SEGS], &ret->xdp_zc_max_segs);
	return 0;
}

int nic_netdev_parse_queue(const struct nlmsghdr *nlh, struct nic_netdev_queue *ret)
{
	const struct nlattr *tb[ZX_NETDEV_A_QUEUE_MAX + 1];

	memset(ret, 0, sizeof(*ret));
	genl_attrs_msg(nlh, GENL_HDRLEN, tb, ZX_NETDEV_A_QUEUE_MAX);
	if (get_ifindex(tb[ZX_NETDEV_A_QUEUE_IFINDEX], &ret->ifindex) < 0 ||
	    !genl_attr_u32(tb[ZX_NETDEV_A_QUEUE_ID], &ret->id) ||
	    !genl_attr_u32(tb[ZX_NETDEV_A_QUEUE_TYPE], &ret->type))
		return -EBADMSG;
	(void)genl_attr_u32(tb[ZX_NETDEV_A_QUEUE_NAPI_ID], &ret->napi_id);
	if (genl_attr_u32(tb[ZX_NETDEV_A_QUEUE_DMABUF], &ret->dmabuf))
		ret->providers |= NIC_PROVIDER_DMABUF;
	if (tb[ZX_NETDEV_A_QUEUE_IO_URING])
		ret->providers |= NIC_PROVIDER_IO_URING;
	if (tb[ZX_NETDEV_A_QUEUE_XSK])
		ret->providers |= NIC_PROVIDER_XSK;
	if (tb[ZX_NETDEV_A_QUEUE_LEASE]) {
		const struct nlattr *l[2];

		ret->providers |= NIC_PROVIDER_LEASE;
		genl_attrs_nested(tb[ZX_NETDEV_A_QUEUE_LEASE], l, 1);
		(void)get_ifindex(l[1], &ret->lease_ifindex); /* LEASE_IFINDEX = 1 */
	}
	return 0;
}

int nic_netdev_parse_napi(const struct nlmsghdr *nlh, struct nic_netdev_napi *ret)
{
	const struct nlattr *tb[ZX_NETDEV_A_NAPI_MAX + 1];
	uint32_t v;

	memset(ret, 0, sizeof(*ret));
	ret->irq = -1;
	ret->pid = -1;
	genl_attrs_msg(nlh, GENL_HDRLEN, tb, ZX_NETDEV_A_NAPI_MAX);
	if (get_ifindex(tb[ZX_NETDEV_A_NAPI_IFINDEX], &ret->ifindex) < 0 ||
	    !genl_attr_u32(tb[ZX_NETDEV_A_NAPI_ID], &ret->id))
		return -EBADMSG;
	if (genl_attr_u32(tb[ZX_NETDEV_A_NAPI_IRQ], &v) && v <= INT32_MAX)
		ret->irq = (int)v;
	if (genl_attr_u32(tb[ZX_NETDEV_A_NAPI_PID], &v) && v <= INT32_MAX)
		ret->pid = (int)v;
	return 0;
}

int nic_netdev_parse_qstat(const struct nlmsghdr *nlh, struct nic_netdev_qstat *ret)
{
	const struct nlattr *tb[ZX_NETDEV_A_QSTATS_MAX + 1];

	memset(ret, 0, sizeof(*ret));
	genl_attrs_msg(nlh, GENL_HDRLEN, tb, ZX_NETDEV_A_QSTATS_MAX);
	if (get_ifindex(tb[ZX_NETDEV_A_QSTATS_IFINDEX], &ret->ifindex) < 0 ||
	    !genl_attr_u32(tb[ZX_NETDEV_A_QSTATS_QUEUE_TYPE], &ret->type) ||
	    !genl_attr_u32(tb[ZX_NETDEV_A_QSTATS_QUEUE_ID], &ret->id))
		return -EBADMSG;
	ret->has_rx_packets = genl_attr_uint(tb[ZX_NETDEV_A_QSTATS_RX_PACKETS], &ret->rx_packets);
	ret->has_rx_bytes = genl_attr_uint(tb[ZX_NETDEV_A_QSTATS_RX_BYTES], &ret->rx_bytes);
	return 0;
}

/* ---- requests ------------------------------------------------------------ */

/* A growable array filled by a dump callback. */
struct vec {
	uint8_t cmd;
	int ifindex;
	size_t size; /* element size */
	int (*parse)(const struct nlmsghdr *nlh, void *elem);
	bool (*keep)(const void *elem, int ifindex);
	void *v;
	size_t n;
};

static int vec_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vec *vc = data;
	uint8_t elem[128];
	void *nv;
	int r;

	if (msg_cmd(nlh) != vc->cmd)
		return 0;
	r = vc->parse(nlh, elem);
	if (r < 0)
		return r;
	if (!vc->keep(elem, vc->ifindex))
		return 0;
	nv = realloc(vc->v, (vc->n + 1) * vc->size);
	if (!nv)
		return -ENOMEM;
	vc->v = nv;
	memcpy((uint8_t *)vc->v + vc->n * vc->size, elem, vc->size);
	vc->n++;
	return 0;
}

static int vec_dump(struct nic_netdev *nd, struct nlmsghdr *nlh, struct vec *vc, void **ret,
		    size_t *ret_n, struct kerror *err)
{
	int r = genl_request(nd->s, nlh, vec_cb, vc, err);

	if (r < 0) {
		free(vc->v);
		return r;
	}
	*ret = vc->v;
	*ret_n = vc->n;
	return 0;
}

static int dev_parse(const struct nlmsghdr *nlh, void *e)
{
	return nic_netdev_parse_dev(nlh, e);
}

static int queue_parse(const struct nlmsghdr *nlh, void *e)
{
	return nic_netdev_parse_queue(nlh, e);
}

static int napi_parse(const struct nlmsghdr *nlh, void *e)
{
	return nic_netdev_parse_napi(nlh, e);
}

static int qstat_parse(const struct nlmsghdr *nlh, void *e)
{
	return nic_netdev_parse_qstat(nlh, e);
}

static bool dev_keep(const void *e, int ifindex)
{
	return ((const struct nic_netdev_dev *)e)->ifindex == ifindex;
}

static bool queue_keep(const void *e, int ifindex)
{
	const struct nic_netdev_queue *q = e;

	return q->ifindex == ifindex && q->type == ZX_NETDEV_QUEUE_TYPE_RX;
}

static bool napi_keep(const void *e, int ifindex)
{
	return ((const struct nic_netdev_napi *)e)->ifindex == ifindex;
}

static bool qstat_keep(const void *e, int ifindex)
{
	const struct nic_netdev_qstat *q = e;

	return q->ifindex == ifindex && q->type == ZX_NETDEV_QUEUE_TYPE_RX;
}

_Static_assert(sizeof(struct nic_netdev_dev) <= 128, "vec elem");
_Static_assert(sizeof(struct nic_netdev_queue) <= 128, "vec elem");
_Static_assert(sizeof(struct nic_netdev_napi) <= 128, "vec elem");
_Static_assert(sizeof(struct nic_netdev_qstat) <= 128, "vec elem");

static int no_family(struct kerror *err)
{
	return kerror_set(err, EOPNOTSUPP, NULL, NULL,
			  "the kernel has no netdev netlink family (Linux 6.3+)");
}

int nic_netdev_dev_get(struct nic_netdev *nd, int ifindex, struct nic_netdev_dev *ret,
		       struct kerror *err)
{
	struct vec vc = { .cmd = ZX_NETDEV_CMD_DEV_GET, .ifindex = ifindex, .size = sizeof(*ret),
			  .parse = dev_parse, .keep = dev_keep };
	struct nlmsghdr *nlh;
	void *v;
	size_t n;
	int r;

	if (!nic_netdev_has(nd, ZX_NETDEV_CMD_DEV_GET))
		return no_family(err);
	nlh = start(nd, ZX_NETDEV_CMD_DEV_GET, NLM_F_ACK);
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_DEV_IFINDEX, (uint32_t)ifindex);
	r = vec_dump(nd, nlh, &vc, &v, &n, err);
	if (r < 0)
		return r;
	if (!n) {
		free(v);
		return kerror_set(err, EPROTO, NULL, NULL, "no reply from the kernel");
	}
	*ret = *(struct nic_netdev_dev *)v;
	free(v);
	return 0;
}

static int queue_cmp(const void *a, const void *b)
{
	const struct nic_netdev_queue *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int nic_netdev_rx_queues(struct nic_netdev *nd, int ifindex, struct nic_netdev_queue **ret,
			 size_t *ret_n, struct kerror *err)
{
	struct vec vc = { .cmd = ZX_NETDEV_CMD_QUEUE_GET, .ifindex = ifindex, .size = sizeof(**ret),
			  .parse = queue_parse, .keep = queue_keep };
	struct nlmsghdr *nlh;
	int r;

	if (!nic_netdev_has(nd, ZX_NETDEV_CMD_QUEUE_GET))
		return no_family(err);
	nlh = start(nd, ZX_NETDEV_CMD_QUEUE_GET, NLM_F_DUMP);
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_QUEUE_IFINDEX, (uint32_t)ifindex);
	r = vec_dump(nd, nlh, &vc, (void **)ret, ret_n, err);
	if (r == 0 && *ret_n)
		qsort(*ret, *ret_n, sizeof(**ret), queue_cmp);
	return r;
}

int nic_netdev_napis(struct nic_netdev *nd, int ifindex, struct nic_netdev_napi **ret,
		     size_t *ret_n, struct kerror *err)
{
	struct vec vc = { .cmd = ZX_NETDEV_CMD_NAPI_GET, .ifindex = ifindex, .size = sizeof(**ret),
			  .parse = napi_parse, .keep = napi_keep };
	struct nlmsghdr *nlh;

	if (!nic_netdev_has(nd, ZX_NETDEV_CMD_NAPI_GET))
		return no_family(err);
	nlh = start(nd, ZX_NETDEV_CMD_NAPI_GET, NLM_F_DUMP);
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_NAPI_IFINDEX, (uint32_t)ifindex);
	return vec_dump(nd, nlh, &vc, (void **)ret, ret_n, err);
}

int nic_netdev_rx_qstats(struct nic_netdev *nd, int ifindex, struct nic_netdev_qstat **ret,
			 size_t *ret_n, struct kerror *err)
{
	struct vec vc = { .cmd = ZX_NETDEV_CMD_QSTATS_GET, .ifindex = ifindex,
			  .size = sizeof(**ret), .parse = qstat_parse, .keep = qstat_keep };
	struct nlmsghdr *nlh;

	if (!nic_netdev_has(nd, ZX_NETDEV_CMD_QSTATS_GET))
		return no_family(err);
	nlh = start(nd, ZX_NETDEV_CMD_QSTATS_GET, NLM_F_DUMP);
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_QSTATS_IFINDEX, (uint32_t)ifindex);
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_QSTATS_SCOPE, ZX_NETDEV_QSTATS_SCOPE_QUEUE);
	return vec_dump(nd, nlh, &vc, (void **)ret, ret_n, err);
}

/* ---- IRQ -> CPU -> NUMA --------------------------------------------------- */

int nic_irq_affinity(int irq, char *buf, size_t size)
{
	char path[320];
	ssize_t n;
	int fd;

	if (irq < 0 || !size)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/irq/%d/smp_affinity_list", proc_root, irq);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	return n ? 0 : -ENODATA;
}

int nic_cpulist_first(const char *list)
{
	char *end;
	long v;

	if (!list)
		return -EINVAL;
	while (isspace((unsigned char)*list))
		list++;
	if (!isdigit((unsigned char)*list))
		return -EINVAL;
	v = strtol(list, &end, 10);
	if (v < 0 || v > 65535 || (*end && *end != '-' && *end != ',' && !isspace((unsigned char)*end)))
		return -EINVAL;
	return (int)v;
}

int nic_cpu_node(int cpu)
{
	char path[320];
	struct dirent *de;
	DIR *d;
	int node = -1;

	if (cpu < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/devices/system/cpu/cpu%d", sys_root, cpu);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char *end;
		long v;

		if (strncmp(de->d_name, "node", 4) || !isdigit((unsigned char)de->d_name[4]))
			continue;
		v = strtol(de->d_name + 4, &end, 10);
		if (!*end && v >= 0 && v < 4096) {
			node = (int)v;
			break;
		}
	}
	closedir(d);
	return node;
}
