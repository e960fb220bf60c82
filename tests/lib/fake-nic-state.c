// SPDX-License-Identifier: MIT
/*
 * fake-nic-state — TEST-ONLY: the fake NIC's state as canonical text
 * (fake_net_dump), kept in a file that outlives a killed daemon
 * (fake_net_set_file), NICs from a spec string, and changes "from outside"
 * (fake_net_ext_*).  Must never be linked into zcrxd itself.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <unistd.h>

#include "fake-nic-int.h"
#include "hex.h"

/* --- dump ------------------------------------------------------------------- */

struct sbuf {
	char *s;
	size_t n, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	for (;;) {
		va_start(ap, fmt);
		k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0)
			return;
		if (b->s && b->n + (size_t)k < b->cap) {
			b->n += (size_t)k;
			return;
		}
		b->cap = (b->cap + (size_t)k + 1) * 2;
		b->s = realloc(b->s, b->cap);
		if (!b->s)
			abort();
	}
}

static void dump_table(struct sbuf *b, const uint32_t *v, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		sb_printf(b, "%s%u", i ? "," : "", v[i]);
	sb_printf(b, "\n");
}

static void dump_nic(struct sbuf *b, const struct fake_nic *f)
{
	uint32_t i;
	char mac[18], flow[160];

	sb_printf(b, "nic %s ifindex %d\n", f->name, f->cfg.ifindex);
	sb_printf(b, " channels combined %u rx %u tx %u\n", f->combined, f->rx, f->tx);
	sb_printf(b, " ntuple %d tds %u hds %u\n", f->ntuple_on, f->tds, f->hds);
	if (f->cfg.rss) {
		sb_printf(b, " rss0 ");
		dump_table(b, f->indir0, f->cfg.indir_size);
		sb_printf(b, " rss0 hash hfunc %u xfrm %u\n", f->hash0.hfunc, f->hash0.xfrm);
	}
	for (i = 1; i <= f->cfg.max_contexts; i++) {
		struct fake_ctx *c = fake_nic_find_ctx((struct fake_nic *)f, i);

		if (!c)
			continue;
		sb_printf(b, " ctx %u ", c->id);
		dump_table(b, c->indir, f->cfg.indir_size);
		sb_printf(b, " ctx %u hash hfunc %u xfrm %u\n", c->id, c->hash.hfunc, c->hash.xfrm);
	}
	for (i = 0; i < f->cfg.rule_capacity; i++) {
		const struct nic_rule *r = &f->rules[i];

		if (r->location == NIC_LOC_ANY)
			continue;
		sb_printf(b, " rule %u match %d mac %s ip4 %08x act %d q %u ctx %u", i, r->match,
			  nic_mac_format(r->mac, mac), r->ip4.s_addr, r->action, r->queue,
			  r->rss_context);
		if (nic_rule_match_is_flow(r->match))
			sb_printf(b, " flow %s", nic_flow_format(&r->flow, false, flow, sizeof(flow)));
		sb_printf(b, "\n");
	}
	for (i = 0; i < FAKE_MAX_Q; i++)
		if (f->providers[i])
			sb_printf(b, " provider q%u %x\n", i, f->providers[i]);
}

char *fake_net_dump(const struct fake_net *net, int ifindex)
{
	struct sbuf b = { 0 };
	size_t i;

	sb_printf(&b, "%s", "");
	for (i = 0; i < net->n; i++)
		if (!ifindex || net->nics[i]->cfg.ifindex == ifindex)
			dump_nic(&b, net->nics[i]);
	return b.s;
}

/* --- outside changes (persisted like the backend's) ------------------------------ */

static int ext_rule_insert(struct fake_net *net, int ifindex, struct nic_rule *rule)
{
	struct fake_nic *f = fake_net_find(net, ifindex);
	struct nic_id id = { ifindex, "ext" };
	struct kerror e;

	if (!f)
		return -ENODEV;
	return fake_nic_insert_rule(f, rule, &id, &e);
}

static int ext_rule_delete(struct fake_net *net, int ifindex, uint32_t location)
{
	struct fake_nic *f = fake_net_find(net, ifindex);
	struct nic_id id = { ifindex, "ext" };
	struct kerror e;

	if (!f)
		return -ENODEV;
	return fake_nic_delete_rule(f, location, &id, &e);
}

static int ext_set_channels(struct fake_net *net, int ifindex, uint32_t combined, uint32_t rx)
{
	struct fake_nic *f = fake_net_find(net, ifindex);
	struct nic_channels_req req = { .has_combined = true, .has_rx = true };
	struct nic_id id = { ifindex, "ext" };
	struct kerror e;

	if (!f)
		return -ENODEV;
	req.combined = combined;
	req.rx = rx;
	return fake_nic_apply_channels(f, &req, &id, &e);
}

static int ext_rss_delete(struct fake_net *net, int ifindex, uint32_t ctx)
{
	struct fake_nic *f = fake_net_find(net, ifindex);
	struct fake_ctx *c;

	if (!f)
		return -ENODEV;
	c = fake_nic_find_ctx(f, ctx);
	if (!c)
		return -ENOENT;
	free(c->indir);
	c->indir = NULL;
	c->id = 0;
	return 0;
}

static int ext_set_provider(struct fake_net *net, int ifindex, uint32_t queue,
			    unsigned providers)
{
	struct fake_nic *f = fake_net_find(net, ifindex);

	if (!f || queue >= FAKE_MAX_Q)
		return -EINVAL;
	f->providers[queue] = providers;
	return 0;
}

static int ext_set_ntuple(struct fake_net *net, int ifindex, bool on)
{
	struct fake_nic *f = fake_net_find(net, ifindex);

	if (!f)
		return -ENODEV;
	if (f->ntuple_on && !on)
		fake_nic_flush_rules(f);
	f->ntuple_on = on;
	return 0;
}

int fake_net_ext_rule_insert(struct fake_net *net, int ifindex, struct nic_rule *rule)
{
	int r = ext_rule_insert(net, ifindex, rule);

	fake_net_persist(net);
	return r;
}

int fake_net_ext_rule_delete(struct fake_net *net, int ifindex, uint32_t location)
{
	int r = ext_rule_delete(net, ifindex, location);

	fake_net_persist(net);
	return r;
}

int fake_net_ext_set_channels(struct fake_net *net, int ifindex, uint32_t combined, uint32_t rx)
{
	int r = ext_set_channels(net, ifindex, combined, rx);

	fake_net_persist(net);
	return r;
}

int fake_net_ext_rss_delete(struct fake_net *net, int ifindex, uint32_t ctx)
{
	int r = ext_rss_delete(net, ifindex, ctx);

	fake_net_persist(net);
	return r;
}

int fake_net_ext_set_provider(struct fake_net *net, int ifindex, uint32_t queue,
			      unsigned providers)
{
	int r = ext_set_provider(net, ifindex, queue, providers);

	fake_net_persist(net);
	return r;
}

int fake_net_ext_set_ntuple(struct fake_net *net, int ifindex, bool on)
{
	int r = ext_set_ntuple(net, ifindex, on);

	fake_net_persist(net);
	return r;
}

/* --- persistence (crash tests) ------------------------------------------------------- */

static json_object *table_json(const uint32_t *v, uint32_t n)
{
	json_object *a = json_object_new_array();
	uint32_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_int64(v[i]));
	return a;
}

static json_object *nic_json(const struct fake_nic *f)
{
	json_object *o = json_object_new_object(), *a;
	const struct fake_nic_cfg *c = &f->cfg;
	char mac[18], hex[40], flow[160];
	uint32_t i;
	size_t k;

#define I(k, v) json_object_object_add(o, k, json_object_new_int64((int64_t)(v)))
	json_object_object_add(o, "name", json_object_new_string(f->name));
	I("ifindex", c->ifindex);
	I("combined_max", c->combined_max);
	I("rx_max", c->rx_max);
	I("tx_max", c->tx_max);
	I("rss", c->rss);
	I("indir_size", c->indir_size);
	I("rss_contexts", c->rss_contexts);
	I("no_ctx_dump", c->no_ctx_dump);
	I("ctx_get_enoent", c->ctx_get_enoent);
	I("rules_vanish", c->rules_vanish);
	I("max_contexts", c->max_contexts);
	I("ntuple", c->ntuple);
	I("ntuple_fixed", c->ntuple_fixed);
	I("rule_capacity", c->rule_capacity);
	I("loc_special", c->loc_special);
	I("l2_rules", c->l2_rules);
	I("l2_context", c->l2_context);
	I("ip_rules", c->ip_rules);
	I("flow_rules", c->flow_rules);
	I("flow6_rules", c->flow6_rules);
	I("header_split", c->header_split);
	I("hds_thresh", c->hds_thresh);
	I("numa_nodes", c->numa_nodes);
	I("numa_node", c->numa_node);
	I("lower", c->lower);
	if (c->lower)
		json_object_object_add(o, "mac", json_object_new_string(nic_mac_format(c->mac, mac)));
	I("combined", f->combined);
	I("rx", f->rx);
	I("tx", f->tx);
	I("ntuple_on", f->ntuple_on);
	I("tds", f->tds);
	I("hds", f->hds);
	I("indir0_user", f->indir0_user);
	I("hfunc0", f->hash0.hfunc);
	I("xfrm0", f->hash0.xfrm);
#undef I
	json_object_object_add(o, "indir0", table_json(f->indir0, c->indir_size));
	a = json_object_new_array();
	for (i = 0; i < c->max_contexts; i++) {
		json_object *x;

		if (!f->ctxs[i].id)
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "id", json_object_new_int64(f->ctxs[i].id));
		json_object_object_add(x, "indir", table_json(f->ctxs[i].indir, c->indir_size));
		json_object_object_add(x, "hfunc", json_object_new_int(f->ctxs[i].hash.hfunc));
		json_object_object_add(x, "xfrm", json_object_new_int(f->ctxs[i].hash.xfrm));
		json_object_array_add(a, x);
	}
	json_object_object_add(o, "contexts", a);
	a = json_object_new_array();
	for (i = 0; i < c->rule_capacity; i++) {
		const struct nic_rule *r = &f->rules[i];
		json_object *x;

		if (r->location == NIC_LOC_ANY)
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "location", json_object_new_int64(r->location));
		json_object_object_add(x, "match", json_object_new_int(r->match));
		json_object_object_add(x, "mac", json_object_new_string(nic_mac_format(r->mac, mac)));
		json_object_object_add(x, "ip4", json_object_new_int64(r->ip4.s_addr));
		for (k = 0; k < sizeof(r->ip6); k++)
			snprintf(hex + 2 * k, 3, "%02x", r->ip6.s6_addr[k]);
		json_object_object_add(x, "ip6", json_object_new_string(hex));
		json_object_object_add(x, "action", json_object_new_int(r->action));
		json_object_object_add(x, "queue", json_object_new_int64(r->queue));
		json_object_object_add(x, "context", json_object_new_int64(r->rss_context));
		if (nic_rule_match_is_flow(r->match))
			json_object_object_add(x, "flow", json_object_new_string(nic_flow_format(
								 &r->flow, false, flow, sizeof(flow))));
		json_object_array_add(a, x);
	}
	json_object_object_add(o, "rules", a);
	a = json_object_new_array();
	for (i = 0; i < FAKE_MAX_Q; i++)
		if (f->providers[i]) {
			json_object *x = json_object_new_object();

			json_object_object_add(x, "queue", json_object_new_int64(i));
			json_object_object_add(x, "providers", json_object_new_int64(f->providers[i]));
			json_object_array_add(a, x);
		}
	json_object_object_add(o, "providers", a);
	return o;
}

void fake_net_persist(struct fake_net *net)
{
	json_object *o, *a;
	char tmp[4200];
	const char *text;
	size_t i;
	FILE *f;

	if (!net->file || net->frozen)
		return;
	o = json_object_new_object();
	a = json_object_new_array();
	for (i = 0; i < net->n; i++)
		json_object_array_add(a, nic_json(net->nics[i]));
	json_object_object_add(o, "nics", a);
	json_object_object_add(o, "next_ifindex", json_object_new_int(net->next_ifindex));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	snprintf(tmp, sizeof(tmp), "%s.tmp", net->file);
	f = fopen(tmp, "w");
	if (f) {
		/* a kill between write and rename loses this change: as if the
		 * kernel never got the call */
		fputs(text, f);
		fclose(f);
		(void)rename(tmp, net->file);
	}
	json_object_put(o);
}

static int64_t jint(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static void jtable(json_object *o, const char *k, uint32_t *dst, uint32_t n)
{
	json_object *a;
	uint32_t i;

	if (!json_object_object_get_ex(o, k, &a))
		return;
	for (i = 0; i < n && i < json_object_array_length(a); i++)
		dst[i] = (uint32_t)json_object_get_int64(json_object_array_get_idx(a, i));
}

static int load(struct fake_net *net, json_object *root)
{
	json_object *nics, *a;
	size_t i, k;

	if (!json_object_object_get_ex(root, "nics", &nics) ||
	    !json_object_is_type(nics, json_type_array))
		return -EINVAL;
	for (i = 0; i < json_object_array_length(nics); i++) {
		json_object *o = json_object_array_get_idx(nics, i), *v;
		struct fake_nic_cfg c = { 0 };
		struct fake_nic *f;
		int r;

		if (!json_object_object_get_ex(o, "name", &v))
			return -EINVAL;
		c.name = json_object_get_string(v);
		c.ifindex = (int)jint(o, "ifindex");
		c.combined_max = (uint32_t)jint(o, "combined_max");
		c.rx_max = (uint32_t)jint(o, "rx_max");
		c.tx_max = (uint32_t)jint(o, "tx_max");
		c.rss = jint(o, "rss");
		c.indir_size = (uint32_t)jint(o, "indir_size");
		c.rss_contexts = jint(o, "rss_contexts");
		c.no_ctx_dump = jint(o, "no_ctx_dump");
		c.ctx_get_enoent = jint(o, "ctx_get_enoent");
		c.rules_vanish = jint(o, "rules_vanish");
		c.max_contexts = (uint32_t)jint(o, "max_contexts");
		c.ntuple = jint(o, "ntuple");
		c.ntuple_fixed = jint(o, "ntuple_fixed");
		c.rule_capacity = (uint32_t)jint(o, "rule_capacity");
		c.loc_special = jint(o, "loc_special");
		c.l2_rules = jint(o, "l2_rules");
		c.l2_context = jint(o, "l2_context");
		c.ip_rules = jint(o, "ip_rules");
		c.flow_rules = jint(o, "flow_rules");
		c.flow6_rules = jint(o, "flow6_rules");
		c.header_split = jint(o, "header_split");
		c.hds_thresh = jint(o, "hds_thresh");
		c.numa_nodes = (int)jint(o, "numa_nodes");
		c.numa_node = (int)jint(o, "numa_node");
		c.lower = (int)jint(o, "lower");
		if (c.lower && (!json_object_object_get_ex(o, "mac", &v) ||
				nic_mac_parse(json_object_get_string(v), c.mac) < 0))
			return -EINVAL;
		c.combined = (uint32_t)jint(o, "combined");
		c.rx = (uint32_t)jint(o, "rx");
		c.tx = (uint32_t)jint(o, "tx");
		r = fake_net_add(net, &c, NULL);
		if (r < 0)
			return r;
		f = net->nics[net->n - 1];
		f->ntuple_on = jint(o, "ntuple_on");
		f->tds = (uint8_t)jint(o, "tds");
		f->hds = (uint32_t)jint(o, "hds");
		f->indir0_user = jint(o, "indir0_user");
		f->hash0.hfunc = (uint8_t)jint(o, "hfunc0");
		f->hash0.xfrm = (uint8_t)jint(o, "xfrm0");
		jtable(o, "indir0", f->indir0, f->cfg.indir_size);
		if (json_object_object_get_ex(o, "contexts", &a))
			for (k = 0; k < json_object_array_length(a) && k < f->cfg.max_contexts; k++) {
				json_object *x = json_object_array_get_idx(a, k);

				f->ctxs[k].indir = calloc(f->cfg.indir_size, sizeof(uint32_t));
				if (!f->ctxs[k].indir)
					return -ENOMEM;
				f->ctxs[k].id = (uint32_t)jint(x, "id");
				f->ctxs[k].hash.hfunc = (uint8_t)jint(x, "hfunc");
				f->ctxs[k].hash.xfrm = (uint8_t)jint(x, "xfrm");
				jtable(x, "indir", f->ctxs[k].indir, f->cfg.indir_size);
			}
		if (json_object_object_get_ex(o, "rules", &a))
			for (k = 0; k < json_object_array_length(a); k++) {
				json_object *x = json_object_array_get_idx(a, k);
				struct nic_rule rr = { 0 };

				rr.location = (uint32_t)jint(x, "location");
				rr.match = (enum nic_rule_match)jint(x, "match");
				if (json_object_object_get_ex(x, "mac", &v))
					(void)nic_mac_parse(json_object_get_string(v), rr.mac);
				rr.ip4.s_addr = (uint32_t)jint(x, "ip4");
				if (json_object_object_get_ex(x, "ip6", &v) &&
				    json_object_get_string_len(v) == 2 * sizeof(rr.ip6)) {
					const char *h = json_object_get_string(v);
					size_t b;

					for (b = 0; b < sizeof(rr.ip6); b++) {
						int byte = hex_byte(h + 2 * b);

						rr.ip6.s6_addr[b] = byte < 0 ? 0 : (uint8_t)byte;
					}
				}
				rr.action = (enum nic_rule_action)jint(x, "action");
				rr.queue = (uint32_t)jint(x, "queue");
				rr.rss_context = (uint32_t)jint(x, "context");
				if (json_object_object_get_ex(x, "flow", &v))
					(void)nic_flow_parse(json_object_get_string(v), &rr.flow);
				if (rr.location < f->cfg.rule_capacity)
					f->rules[rr.location] = rr;
			}
		if (json_object_object_get_ex(o, "providers", &a))
			for (k = 0; k < json_object_array_length(a); k++) {
				json_object *x = json_object_array_get_idx(a, k);
				uint32_t q = (uint32_t)jint(x, "queue");

				if (q < FAKE_MAX_Q)
					f->providers[q] = (unsigned)jint(x, "providers");
			}
	}
	net->next_ifindex = (int)jint(root, "next_ifindex");
	if (net->next_ifindex <= 0)
		net->next_ifindex = 100;
	return 0;
}

int fake_net_set_file(struct fake_net *net, const char *path)
{
	json_object *root;
	int r;

	free(net->file);
	net->file = strdup(path);
	if (!net->file)
		return -ENOMEM;
	if (access(path, F_OK) < 0)
		return 0;
	root = json_object_from_file(path);
	if (!root)
		return -EINVAL;
	r = load(net, root);
	json_object_put(root);
	return r < 0 ? r : 1;
}

static struct fake_nic *find_name(const struct fake_net *net, const char *name)
{
	size_t i;

	for (i = 0; i < net->n; i++)
		if (!strcmp(net->nics[i]->name, name))
			return net->nics[i];
	return NULL;
}

static bool opt_bool(const char *v)
{
	return !strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "true");
}

int fake_net_add_spec(struct fake_net *net, const char *spec)
{
	char buf[256], *name, *shape, *opts, *save = NULL, *kv;
	struct fake_nic_cfg c;
	struct fake_nic *f;
	int r;

	snprintf(buf, sizeof(buf), "%s", spec);
	name = buf;
	shape = strchr(buf, ':');
	if (!shape)
		return -EINVAL;
	*shape++ = '\0';
	opts = strchr(shape, ',');
	if (opts)
		*opts++ = '\0';
	if (!strcmp(shape, "capable"))
		fake_nic_cfg_capable(&c, name);
	else if (!strcmp(shape, "veth"))
		fake_nic_cfg_veth(&c, name);
	else if (!strcmp(shape, "macvtap"))
		fake_nic_cfg_macvtap(&c, name, 0, (const uint8_t[6]){ 0 });
	else
		return -EINVAL;
	for (kv = opts ? strtok_r(opts, ",", &save) : NULL; kv; kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');
		unsigned long n;

		if (!v)
			return -EINVAL;
		*v++ = '\0';
		n = strtoul(v, NULL, 0);
		if (!strcmp(kv, "combined"))
			c.combined = (uint32_t)n;
		else if (!strcmp(kv, "combined_max"))
			c.combined_max = (uint32_t)n;
		else if (!strcmp(kv, "rx"))
			c.rx = (uint32_t)n;
		else if (!strcmp(kv, "rx_max"))
			c.rx_max = c.tx_max = (uint32_t)n;
		else if (!strcmp(kv, "l2"))
			c.l2_rules = opt_bool(v);
		else if (!strcmp(kv, "ip"))
			c.ip_rules = opt_bool(v);
		else if (!strcmp(kv, "flow"))
			c.flow_rules = opt_bool(v);
		else if (!strcmp(kv, "flow6"))
			c.flow6_rules = opt_bool(v);
		else if (!strcmp(kv, "ntuple"))
			c.ntuple = opt_bool(v);
		else if (!strcmp(kv, "rss"))
			c.rss = opt_bool(v);
		else if (!strcmp(kv, "contexts"))
			c.rss_contexts = opt_bool(v);
		else if (!strcmp(kv, "special"))
			c.loc_special = opt_bool(v);
		else if (!strcmp(kv, "capacity"))
			c.rule_capacity = (uint32_t)n;
		else if (!strcmp(kv, "hs"))
			c.header_split = c.hds_thresh = opt_bool(v);
		else if (!strcmp(kv, "numa"))
			c.numa_nodes = (int)n;
		else if (!strcmp(kv, "ctxget"))
			c.ctx_get_enoent = !opt_bool(v);
		else if (!strcmp(kv, "vanish"))
			c.rules_vanish = opt_bool(v);
		else if (!strcmp(kv, "ctxdump"))
			c.no_ctx_dump = !opt_bool(v);
		else if (!strcmp(kv, "l2ctx"))
			c.l2_context = opt_bool(v);
		else if (!strcmp(kv, "symxor"))
			c.sym_xor = opt_bool(v);
		else if (!strcmp(kv, "ifindex"))
			c.ifindex = (int)n;
		else if (!strcmp(kv, "lower") && (f = find_name(net, v)))
			c.lower = f->cfg.ifindex;
		else if (!strcmp(kv, "mac") && nic_mac_parse(v, c.mac) == 0)
			;
		else
			return -EINVAL;
	}
	if (!strcmp(shape, "macvtap") && !c.lower)
		return -EINVAL;
	r = fake_net_add(net, &c, NULL);
	if (r >= 0)
		fake_net_persist(net);
	return r;
}
