#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""patch.py SRC DST — netdevsim-zx: netdevsim's sources from SRC, with the
zcrx project's extension (zx.c, zx.h beside this file) hooked in, written to
DST.  DST may hold a build of SRC: only the files whose text differs are
written, so make rebuilds just those.  Every change is anchored on text that must occur exactly once in the
file; if netdevsim moved on and an anchor is gone or ambiguous, this exits 1
and names it, instead of building something else.

The hooks (all of the new code is in zx.c):
  ethtool.c  the n-tuple and RSS operations in nsim_ethtool_ops; the state
             made with the port's ethtool state; the table spread again on a
             channel change
  netdev.c   frames from the link partner steered by nsim_zx_steer();
             page pools DMA mapped and open to a memory provider; ntuple a
             feature the user can switch on; real per-queue RX qstats; the
             state freed once the netdev is unregistered
  bus.c      the bus device DMA capable
  Makefile   zx.o linked in
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

OPS = """\
	.supported_input_xfrm		= RXH_XFRM_SYM_XOR,
	.rxfh_per_ctx_fields		= 1,
	.rxfh_per_ctx_key		= 1,
	.cap_rss_rxnfc_adds		= 1,
	.rxfh_max_num_contexts		= NSIM_ZX_MAX_CTX,
	.get_rx_ring_count		= nsim_zx_get_rx_ring_count,
	.get_rxnfc			= nsim_zx_get_rxnfc,
	.set_rxnfc			= nsim_zx_set_rxnfc,
	.get_rxfh_indir_size		= nsim_zx_get_rxfh_indir_size,
	.get_rxfh_key_size		= nsim_zx_get_rxfh_key_size,
	.get_rxfh			= nsim_zx_get_rxfh,
	.set_rxfh			= nsim_zx_set_rxfh,
	.get_rxfh_fields		= nsim_zx_get_rxfh_fields,
	.create_rxfh_context		= nsim_zx_create_rxfh_context,
	.modify_rxfh_context		= nsim_zx_modify_rxfh_context,
	.remove_rxfh_context		= nsim_zx_remove_rxfh_context,
"""

# (file, anchor, replacement): the anchor must occur exactly once.
EDITS = [
    ("ethtool.c", '#include "netdevsim.h"\n', '#include "netdevsim.h"\n#include "zx.h"\n'),
    ("ethtool.c", "static const struct ethtool_ops nsim_ethtool_ops = {\n",
     "static const struct ethtool_ops nsim_ethtool_ops = {\n" + OPS),
    ("ethtool.c", "\tns->ethtool.channels = ch->combined_count;\n",
     "\tns->ethtool.channels = ch->combined_count;\n\tnsim_zx_channels_changed(ns);\n"),
    ("ethtool.c", "}\n\nvoid nsim_ethtool_fini(struct netdevsim *ns)\n",
     "\tnsim_zx_init(ns);\n}\n\nvoid nsim_ethtool_fini(struct netdevsim *ns)\n"),

    ("netdev.c", '#include "netdevsim.h"\n', '#include "netdevsim.h"\n#include "zx.h"\n'),
    ("netdev.c", "\trq = peer_ns->rq[rxq];\n",
     "\trxq = nsim_zx_steer(peer_ns, skb, rxq);\n"
     "\tif (rxq < 0) {\n"
     "\t\tif (psp_ext)\n"
     "\t\t\t__skb_ext_put(psp_ext);\n"
     "\t\tgoto out_drop_any;\n"
     "\t}\n"
     "\trq = peer_ns->rq[rxq];\n"),
    ("netdev.c",
     "static int nsim_create_page_pool(struct page_pool **p, struct napi_struct *napi)\n{\n",
     "static int nsim_create_page_pool(struct page_pool **p, struct napi_struct *napi,\n"
     "\t\t\t\t struct netdevsim *ns, int idx)\n{\n"),
    ("netdev.c", "\tpool = page_pool_create(&params);\n",
     "\tnsim_zx_page_pool_params(ns, idx, &params);\n\tpool = page_pool_create(&params);\n"),
    ("netdev.c", "nsim_create_page_pool(&rq->page_pool, &rq->napi);",
     "nsim_create_page_pool(&rq->page_pool, &rq->napi, ns, i);"),
    ("netdev.c", "nsim_create_page_pool(&qmem->pp, &ns->rq[idx]->napi);",
     "nsim_create_page_pool(&qmem->pp, &ns->rq[idx]->napi, ns, idx);"),
    ("netdev.c", "nsim_create_page_pool(&qmem->rq->page_pool, &qmem->rq->napi);",
     "nsim_create_page_pool(&qmem->rq->page_pool, &qmem->rq->napi, ns, idx);"),
    ("netdev.c", "\tdev->hw_features |= NETIF_F_HW_TC |\n",
     "\tdev->hw_features |= NETIF_F_NTUPLE | NETIF_F_HW_TC |\n"),
    ("netdev.c",
     "static void nsim_get_queue_stats_rx(struct net_device *dev, int idx,\n"
     "\t\t\t\t    struct netdev_queue_stats_rx *stats)\n{\n"
     "\tstruct rtnl_link_stats64 rtstats = {};\n\n",
     "static void nsim_get_queue_stats_rx(struct net_device *dev, int idx,\n"
     "\t\t\t\t    struct netdev_queue_stats_rx *stats)\n{\n"
     "\tstruct rtnl_link_stats64 rtstats = {};\n\n"
     "\tif (nsim_zx_queue_stats_rx(dev, idx, stats))\n\t\treturn;\n"),
    ("netdev.c", "\tunregister_netdevice(dev);\n",
     "\tunregister_netdevice(dev);\n\tnsim_zx_fini(ns);\n"),
    ("netdev.c", "err_free_netdev:\n\tnsim_ethtool_fini(ns);\n",
     "err_free_netdev:\n\tnsim_ethtool_fini(ns);\n\tnsim_zx_fini(ns);\n"),

    ("bus.c", '#include "netdevsim.h"\n', '#include "netdevsim.h"\n#include "zx.h"\n'),
    ("bus.c", "\terr = device_register(&nsim_bus_dev->dev);\n",
     "\tnsim_zx_bus_dev_init(&nsim_bus_dev->dev);\n\terr = device_register(&nsim_bus_dev->dev);\n"),

    ("Makefile", "netdevsim-objs := \\\n", "netdevsim-objs := zx.o \\\n"),
]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: patch.py SRC DST")
    src, dst = sys.argv[1], sys.argv[2]
    text = {}
    for name, anchor, new in EDITS:
        if name not in text:
            with open(os.path.join(src, name)) as f:
                text[name] = f.read()
        n = text[name].count(anchor)
        if n != 1:
            sys.exit("patch.py: %s: anchor %s %s" % (
                name, repr(anchor[:70]), "not found" if n == 0 else "found %d times" % n))
        text[name] = text[name].replace(anchor, new)
    # every caller of the page pool helper passes the queue now
    calls = text["netdev.c"].count("nsim_create_page_pool(")
    if calls != 4 or text["netdev.c"].count(", ns, i);") + text["netdev.c"].count(", ns, idx);") != 3:
        sys.exit("patch.py: netdev.c: nsim_create_page_pool() has callers this patch does not know")
    for f in ("zx.c", "zx.h"):
        with open(os.path.join(HERE, f)) as fh:
            text[f] = fh.read()
    os.makedirs(dst, exist_ok=True)
    for name in sorted(os.listdir(src)):
        if name not in text and os.path.isfile(os.path.join(src, name)):
            with open(os.path.join(src, name)) as fh:
                text[name] = fh.read()
    for name, body in text.items():
        path = os.path.join(dst, name)
        if os.path.exists(path):
            with open(path) as fh:
                if fh.read() == body:
                    continue
        with open(path, "w") as fh:
            fh.write(body)
    print("netdevsim-zx: %d hooks in %s" % (len(EDITS), ", ".join(sorted({e[0] for e in EDITS}))))


if __name__ == "__main__":
    main()
