// SPDX-License-Identifier: MIT
/*
 * config — reading zcrxd.conf and its drop-ins.
 *
 * inih splits lines into sections and key=value pairs; a line reader of our
 * own in front of it counts lines (so every problem names file:line) and
 * catches syntax errors itself, so that all of them are reported, not only
 * the first.  Keys are dispatched through a table.  Must not: touch the
 * running daemon or log; problems go into struct config_diags.
 */
#include <dirent.h>
#include <errno.h>
#include <ctype.h>
#include <grp.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define CONFIG_DEFAULT_LIBVIRT_URI "qemu:///system"
#define CONFIG_DEFAULT_RECONCILE_SEC 30
#define CONFIG_MAX_QUEUE 4095
#define CONFIG_MAX_FILES 256

struct parse_ctx {
	struct config *cfg;
	struct config_diags *diags;
	const char *file;
	unsigned line;
	/* line source */
	const char *text;
	size_t len, pos;
};

static void diag(struct parse_ctx *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void diag_add(struct config_diags *d, const char *file, unsigned line, const char *msg)
{
	struct config_diag *v = realloc(d->v, (d->n + 1) * sizeof(*v));

	if (!v)
		return;
	d->v = v;
	v[d->n].file = strdup(file ? file : "");
	v[d->n].line = line;
	v[d->n].msg = strdup(msg);
	d->n++;
}

static void diag(struct parse_ctx *p, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(p->diags, p->file, line, msg);
}

void config_diags_free(struct config_diags *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

/* ---- defaults, names --------------------------------------------------- */

static void nic_defaults(struct config_nic *n)
{
	memset(n, 0, sizeof(*n));
	n->steering[0] = CONFIG_STEERING_MAC;
	n->steering[1] = CONFIG_STEERING_IP;
	n->n_steering = 2;
	n->header_split = CONFIG_HEADER_SPLIT_AUTO;
	n->on_exhaustion = CONFIG_ON_EXHAUSTION_DEGRADE;
	n->fallback = CONFIG_FALLBACK_COPY;
}

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->libvirt_uri = strdup(CONFIG_DEFAULT_LIBVIRT_URI);
	c->autoattach = CONFIG_AUTOATTACH_METADATA;
	c->reconcile_interval_sec = CONFIG_DEFAULT_RECONCILE_SEC;
	config_control_init(&c->control);
	nic_defaults(&c->nic_default);
	snprintf(c->nic_default.name, sizeof(c->nic_default.name), "*");
}

static void nic_free(struct config_nic *n)
{
	free(n->reserve_list);
	n->reserve_list = NULL;
	n->n_reserve_list = 0;
}

void config_free(struct config *c)
{
	size_t i;

	if (!c)
		return;
	free(c->libvirt_uri);
	free(c->socket_group);
	free(c->admin_group);
	for (i = 0; i < c->n_nics; i++)
		nic_free(&c->nics[i]);
	free(c->nics);
	nic_free(&c->nic_default);
	for (i = 0; i < c->n_files; i++)
		free(c->files[i]);
	free(c->files);
	memset(c, 0, sizeof(*c));
}

const char *config_autoattach_name(enum config_autoattach v)
{
	switch (v) {
	case CONFIG_AUTOATTACH_METADATA: return "metadata";
	case CONFIG_AUTOATTACH_DIRECT: return "direct";
	case CONFIG_AUTOATTACH_NONE: return "none";
	}
	return "?";
}

const char *config_header_split_name(enum config_header_split v)
{
	switch (v) {
	case CONFIG_HEADER_SPLIT_AUTO: return "auto";
	case CONFIG_HEADER_SPLIT_ON: return "on";
	case CONFIG_HEADER_SPLIT_OFF: return "off";
	}
	return "?";
}

const char *config_on_exhaustion_name(enum config_on_exhaustion v)
{
	switch (v) {
	case CONFIG_ON_EXHAUSTION_DEGRADE: return "degrade";
	case CONFIG_ON_EXHAUSTION_FAIL: return "fail";
	}
	return "?";
}

const char *config_fallback_name(enum config_fallback v)
{
	switch (v) {
	case CONFIG_FALLBACK_COPY: return "copy";
	case CONFIG_FALLBACK_DROP: return "drop";
	}
	return "?";
}

const char *config_steering_name(enum config_steering v)
{
	switch (v) {
	case CONFIG_STEERING_MAC: return "mac";
	case CONFIG_STEERING_IP: return "ip";
	}
	return "?";
}

/* ---- value parsers ------------------------------------------------------ */

static int parse_uint(const char *v, unsigned long max, unsigned long *ret)
{
	unsigned long n;
	char *end;

	if (!*v || !isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n > max)
		return -ERANGE;
	*ret = n;
	return 0;
}

static int parse_bool(const char *v, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i])) {
			*ret = true;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* "2" → count; "6,7", "4-7", "7-7", "1, 3-4" → list. */
static int parse_reserve(struct parse_ctx *p, const char *v, struct config_nic *n)
{
	uint32_t *list = NULL;
	size_t cnt = 0, i, j;
	unsigned long num;
	char *copy, *tok, *save = NULL;

	if (!strpbrk(v, ",-")) {
		if (parse_uint(v, CONFIG_MAX_QUEUE + 1, &num) < 0) {
			diag(p, p->line, "ReserveQueues='%s': expected a queue count or a list such as 6,7 or 4-7", v);
			return -EINVAL;
		}
		nic_free(n);
		n->reserve_count = (uint32_t)num;
		n->set |= CONFIG_NIC_KEY_RESERVE;
		return 0;
	}
	copy = strdup(v);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned long lo, hi;
		char *dash, *a = tok, *b;

		while (isspace((unsigned char)*a))
			a++;
		for (b = a + strlen(a); b > a && isspace((unsigned char)b[-1]); b--)
			*(b - 1) = '\0';
		if (!*a)
			continue; /* "7," is a list of one */
		dash = strchr(a, '-');
		if (dash)
			*dash = '\0';
		if (parse_uint(a, CONFIG_MAX_QUEUE, &lo) < 0 ||
		    (dash ? parse_uint(dash + 1, CONFIG_MAX_QUEUE, &hi) : (hi = lo, 0)) < 0 || hi < lo) {
			diag(p, p->line, "ReserveQueues='%s': bad queue or range '%s%s%s' (queues are 0..%d)",
			     v, a, dash ? "-" : "", dash ? dash + 1 : "", CONFIG_MAX_QUEUE);
			free(copy);
			free(list);
			return -EINVAL;
		}
		for (num = lo; num <= hi; num++) {
			uint32_t *nl;

			if (cnt >= CONFIG_RESERVE_LIST_MAX) {
				diag(p, p->line, "ReserveQueues='%s': more than %d queues", v,
				     CONFIG_RESERVE_LIST_MAX);
				free(copy);
				free(list);
				return -EINVAL;
			}
			nl = realloc(list, (cnt + 1) * sizeof(*list));
			if (!nl) {
				free(copy);
				free(list);
				return -ENOMEM;
			}
			list = nl;
			list[cnt++] = (uint32_t)num;
		}
	}
	free(copy);
	if (!cnt) {
		diag(p, p->line, "ReserveQueues='%s': empty list", v);
		return -EINVAL;
	}
	qsort(list, cnt, sizeof(*list), cmp_u32);
	for (i = 1, j = 1; i < cnt; i++)
		if (list[i] != list[j - 1])
			list[j++] = list[i];
	nic_free(n);
	n->reserve_list = list;
	n->n_reserve_list = j;
	n->reserve_count = (uint32_t)j;
	n->set |= CONFIG_NIC_KEY_RESERVE;
	return 0;
}

static int parse_steering(struct parse_ctx *p, const char *v, struct config_nic *n)
{
	enum config_steering s[CONFIG_STEERING_MAX];
	size_t cnt = 0, i;
	char *copy, *tok, *save = NULL;

	copy = strdup(v);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		enum config_steering k;

		if (!strcmp(tok, "mac"))
			k = CONFIG_STEERING_MAC;
		else if (!strcmp(tok, "ip"))
			k = CONFIG_STEERING_IP;
		else {
			diag(p, p->line, "Steering='%s': unknown method '%s' (expected mac, ip)", v, tok);
			free(copy);
			return -EINVAL;
		}
		for (i = 0; i < cnt; i++)
			if (s[i] == k) {
				diag(p, p->line, "Steering='%s': '%s' given twice", v, tok);
				free(copy);
				return -EINVAL;
			}
		s[cnt++] = k;
	}
	free(copy);
	if (!cnt) {
		diag(p, p->line, "Steering= needs at least one of mac, ip");
		return -EINVAL;
	}
	memcpy(n->steering, s, sizeof(s[0]) * cnt);
	n->n_steering = cnt;
	n->set |= CONFIG_NIC_KEY_STEERING;
	return 0;
}

struct choice {
	const char *name;
	int value;
};

static int parse_choice(struct parse_ctx *p, const char *key, const char *v,
			const struct choice *choices, int *ret)
{
	char expected[128] = "";
	const struct choice *c;

	for (c = choices; c->name; c++)
		if (!strcmp(v, c->name)) {
			*ret = c->value;
			return 0;
		}
	for (c = choices; c->name; c++)
		snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected), "%s%s",
			 c == choices ? "" : ", ", c->name);
	diag(p, p->line, "%s='%s': expected one of %s", key, v, expected);
	return -EINVAL;
}

static const struct choice autoattach_choices[] = {
	{ "metadata", CONFIG_AUTOATTACH_METADATA },
	{ "direct", CONFIG_AUTOATTACH_DIRECT },
	{ "none", CONFIG_AUTOATTACH_NONE },
	{ NULL, 0 },
};
static const struct choice hs_choices[] = {
	{ "auto", CONFIG_HEADER_SPLIT_AUTO },
	{ "on", CONFIG_HEADER_SPLIT_ON },
	{ "off", CONFIG_HEADER_SPLIT_OFF },
	{ NULL, 0 },
};
static const struct choice exh_choices[] = {
	{ "degrade", CONFIG_ON_EXHAUSTION_DEGRADE },
	{ "fail", CONFIG_ON_EXHAUSTION_FAIL },
	{ NULL, 0 },
};
static const struct choice fb_choices[] = {
	{ "copy", CONFIG_FALLBACK_COPY },
	{ "drop", CONFIG_FALLBACK_DROP },
	{ NULL, 0 },
};

/* ---- key tables --------------------------------------------------------- */

static int set_string(char **dst, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static int check_group(struct parse_ctx *p, const char *key, const char *v)
{
	if (!*v)
		return 0;
	if (!getgrnam(v)) {
		diag(p, p->line, "%s='%s': no such group", key, v);
		return -EINVAL;
	}
	return 0;
}

static int daemon_key(struct parse_ctx *p, const char *key, const char *v)
{
	struct config *c = p->cfg;
	unsigned long n;
	int k;

	if (!strcmp(key, "LibvirtURI")) {
		if (!*v) {
			diag(p, p->line, "LibvirtURI= must not be empty (use 'none' to run without libvirt)");
			return -EINVAL;
		}
		return set_string(&c->libvirt_uri, v);
	}
	if (!strcmp(key, "AutoAttach")) {
		if (parse_choice(p, key, v, autoattach_choices, &k) < 0)
			return -EINVAL;
		c->autoattach = (enum config_autoattach)k;
		return 0;
	}
	if (!strcmp(key, "SocketGroup") || !strcmp(key, "AdminGroup")) {
		char **dst = key[0] == 'S' ? &c->socket_group : &c->admin_group;

		if (check_group(p, key, v) < 0)
			return -EINVAL;
		if (!*v) {
			free(*dst);
			*dst = NULL;
			return 0;
		}
		return set_string(dst, v);
	}
	if (!strcmp(key, "ReconcileIntervalSec")) {
		if (parse_uint(v, 86400, &n) < 0) {
			diag(p, p->line, "ReconcileIntervalSec='%s': expected seconds, 0..86400 (0 = off)", v);
			return -EINVAL;
		}
		c->reconcile_interval_sec = (unsigned)n;
		return 0;
	}
	if (!strcmp(key, "HookStrict")) {
		if (parse_bool(v, &c->hook_strict) < 0) {
			diag(p, p->line, "HookStrict='%s': expected yes or no", v);
			return -EINVAL;
		}
		return 0;
	}
	{
		char msg[256];
		int r = config_control_key(&c->control, key, v, msg, sizeof(msg));

		if (r != -ENOENT) {
			if (r < 0)
				diag(p, p->line, "%s", msg);
			return r;
		}
	}
	diag(p, p->line, "unknown key '%s' in [daemon]", key);
	return -EINVAL;
}

static int nic_key(struct parse_ctx *p, struct config_nic *n, const char *key, const char *v)
{
	unsigned long num;
	int k;

	if (!strcmp(key, "ReserveQueues"))
		return parse_reserve(p, v, n);
	if (!strcmp(key, "Channels")) {
		if (parse_uint(v, CONFIG_MAX_QUEUE + 1, &num) < 0) {
			diag(p, p->line, "Channels='%s': expected a queue count, 1..%d (0 = leave alone)", v,
			     CONFIG_MAX_QUEUE + 1);
			return -EINVAL;
		}
		n->channels = (uint32_t)num;
		n->set |= CONFIG_NIC_KEY_CHANNELS;
		return 0;
	}
	if (!strcmp(key, "Steering"))
		return parse_steering(p, v, n);
	if (!strcmp(key, "HeaderSplit")) {
		if (parse_choice(p, key, v, hs_choices, &k) < 0)
			return -EINVAL;
		n->header_split = (enum config_header_split)k;
		n->set |= CONFIG_NIC_KEY_HEADER_SPLIT;
		return 0;
	}
	if (!strcmp(key, "OnExhaustion")) {
		if (parse_choice(p, key, v, exh_choices, &k) < 0)
			return -EINVAL;
		n->on_exhaustion = (enum config_on_exhaustion)k;
		n->set |= CONFIG_NIC_KEY_ON_EXHAUSTION;
		return 0;
	}
	if (!strcmp(key, "Fallback")) {
		if (parse_choice(p, key, v, fb_choices, &k) < 0)
			return -EINVAL;
		n->fallback = (enum config_fallback)k;
		n->set |= CONFIG_NIC_KEY_FALLBACK;
		return 0;
	}
	diag(p, p->line, "unknown key '%s' in [nic %s]", key, n->name);
	return -EINVAL;
}

static bool ifname_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i]) || !isprint((unsigned char)s[i]))
			return false;
	return true;
}

static struct config_nic *nic_section(struct parse_ctx *p, const char *name)
{
	struct config *c = p->cfg;
	struct config_nic *v;
	size_t i;

	if (!strcmp(name, "*")) {
		c->has_nic_default = true;
		return &c->nic_default;
	}
	for (i = 0; i < c->n_nics; i++)
		if (!strcmp(c->nics[i].name, name))
			return &c->nics[i];
	v = realloc(c->nics, (c->n_nics + 1) * sizeof(*v));
	if (!v)
		return NULL;
	c->nics = v;
	nic_defaults(&v[c->n_nics]);
	snprintf(v[c->n_nics].name, sizeof(v[c->n_nics].name), "%s", name);
	return &v[c->n_nics++];
}

/* inih calls this for every key=value (section is what the last [..] said). */
static int on_pair(void *user, const char *section, const char *key, const char *value)
{
	struct parse_ctx *p = user;

	if (!strcmp(section, "daemon")) {
		(void)daemon_key(p, key, value);
		return 1;
	}
	if (!strncmp(section, "nic", 3) && (section[3] == ' ' || section[3] == '\t')) {
		const char *name = section + 4;
		struct config_nic *n;

		while (*name == ' ' || *name == '\t')
			name++;
		if (!ifname_valid(name) && strcmp(name, "*")) {
			/* reported once, at the section header */
			return 1;
		}
		n = nic_section(p, name);
		if (n)
			(void)nic_key(p, n, key, value);
		return 1;
	}
	if (!*section)
		diag(p, p->line, "key '%s' outside of any section", key);
	/* unknown sections are reported at their header */
	return 1;
}

static void check_section(struct parse_ctx *p, const char *hdr)
{
	const char *name;

	if (!strcmp(hdr, "daemon"))
		return;
	if (!strncmp(hdr, "nic", 3) && (hdr[3] == ' ' || hdr[3] == '\t')) {
		name = hdr + 4;
		while (*name == ' ' || *name == '\t')
			name++;
		if (!*name)
			diag(p, p->line, "[nic] needs an interface name or '*', e.g. [nic eth0]");
		else if (strcmp(name, "*") && !ifname_valid(name))
			diag(p, p->line, "[nic %s]: not a valid interface name", name);
		else if (!nic_section(p, name)) /* a section without keys names its NIC too */
			diag(p, p->line, "[nic %s]: out of memory", name);
		return;
	}
	if (!strcmp(hdr, "nic"))
		diag(p, p->line, "[nic] needs an interface name or '*', e.g. [nic eth0]");
	else
		diag(p, p->line, "unknown section [%s] (expected [daemon], [nic NAME] or [nic *])", hdr);
}

/*
 * Line reader in front of inih: counts lines, reports lines inih would
 * reject (so that every one is reported with its line number) and hands inih
 * a blank line instead.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct parse_ctx *p = stream;
	const char *s, *nl, *a, *b;
	size_t n;

	if (p->pos >= p->len)
		return NULL;
	s = p->text + p->pos;
	nl = memchr(s, '\n', p->len - p->pos);
	n = nl ? (size_t)(nl - s) : p->len - p->pos;
	p->pos += n + (nl ? 1 : 0);
	p->line++;
	if (n && s[n - 1] == '\r')
		n--;
	if (memchr(s, '\0', n)) {
		diag(p, p->line, "NUL byte in line");
		goto blank;
	}
	if (n + 2 > (size_t)num) {
		diag(p, p->line, "line too long (more than %d characters)", num - 2);
		goto blank;
	}
	for (a = s; a < s + n && isspace((unsigned char)*a); a++)
		;
	for (b = s + n; b > a && isspace((unsigned char)b[-1]); b--)
		;
	if (a == b || *a == '#' || *a == ';')
		goto copy;
	if (*a == '[') {
		char hdr[256];
		size_t hl;

		if (b[-1] != ']' || b - a < 2) {
			diag(p, p->line, "section header not closed with ']'");
			goto blank;
		}
		hl = (size_t)(b - a - 2);
		if (hl >= sizeof(hdr))
			hl = sizeof(hdr) - 1;
		memcpy(hdr, a + 1, hl);
		hdr[hl] = '\0';
		check_section(p, hdr);
		goto copy;
	}
	if (a != s) {
		diag(p, p->line, "line starts with whitespace (continuation lines are not supported)");
		goto blank;
	}
	if (!memchr(a, '=', (size_t)(b - a))) {
		diag(p, p->line, "expected Key=Value, a [section] or a comment");
		goto blank;
	}
	if (*a == '=') {
		diag(p, p->line, "missing key before '='");
		goto blank;
	}
copy:
	memcpy(str, s, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
blank:
	str[0] = '\n';
	str[1] = '\0';
	return str;
}

static int parse_text(struct config *cfg, struct config_diags *diags, const char *file,
		      const char *text, size_t len)
{
	struct parse_ctx p = {
		.cfg = cfg, .diags = diags, .file = file, .text = text, .len = len,
	};
	size_t before = diags->n;
	int r;

	ini_allow_multiline = false;
	ini_allow_inline_comments = false;
	ini_allow_no_value = false;
	ini_stop_on_first_error = false;
	r = ini_parse_stream(read_line, &p, on_pair, &p);
	if (r > 0 && diags->n == before)
		diag(&p, (unsigned)r, "syntax error");
	else if (r < 0)
		diag(&p, 0, "cannot parse (out of memory)");
	return diags->n == before ? 0 : -EINVAL;
}

static int read_file(const char *path, char **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *nb;

			if (cap > 4u * 1024 * 1024) {
				fclose(f);
				free(buf);
				return -EFBIG;
			}
			nb = realloc(buf, cap ? cap * 2 : 8192);
			if (!nb) {
				fclose(f);
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno ? errno : EIO;

		fclose(f);
		free(buf);
		return -e;
	}
	fclose(f);
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int add_file(struct config *c, const char *path)
{
	char **v = realloc(c->files, (c->n_files + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	c->files = v;
	v[c->n_files] = strdup(path);
	if (!v[c->n_files])
		return -ENOMEM;
	c->n_files++;
	return 0;
}

static void validate(struct config *c, struct config_diags *d, const char *file)
{
	char buf[256];
	size_t i, j;

	if (config_control_finish(&c->control, buf, sizeof(buf)))
		diag_add(d, file, 0, buf);

	for (i = 0; i <= c->n_nics; i++) {
		struct config_nic *n = i < c->n_nics ? &c->nics[i] : &c->nic_default;
		struct config_nic eff;

		if (i == c->n_nics && !c->has_nic_default)
			continue;
		if (i < c->n_nics) {
			if (!config_nic_policy(c, n->name, &eff))
				continue;
		} else {
			eff = *n;
		}
		if (!eff.channels)
			continue;
		if (eff.reserve_list) {
			for (j = 0; j < eff.n_reserve_list; j++)
				if (eff.reserve_list[j] >= eff.channels) {
					char msg[160];

					snprintf(msg, sizeof(msg),
						 "[nic %s]: ReserveQueues names queue %u but Channels=%u",
						 n->name, eff.reserve_list[j], eff.channels);
					diag_add(d, file, 0, msg);
					break;
				}
		}
		if (eff.reserve_count >= eff.channels) {
			char msg[160];

			snprintf(msg, sizeof(msg),
				 "[nic %s]: ReserveQueues (%u) leaves no shared queue with Channels=%u",
				 n->name, eff.reserve_count, eff.channels);
			diag_add(d, file, 0, msg);
		}
	}
}

int config_load_string(const char *name, const char *text, struct config *ret, struct config_diags *diags)
{
	int r;

	memset(diags, 0, sizeof(*diags));
	config_init(ret);
	r = parse_text(ret, diags, name, text, strlen(text));
	if (add_file(ret, name) < 0)
		r = -ENOMEM;
	validate(ret, diags, name);
	if (diags->n)
		r = -EINVAL;
	return r;
}

static int dropin_filter(const struct dirent *de)
{
	size_t n = strlen(de->d_name);

	return de->d_name[0] != '.' && n > 5 && !strcmp(de->d_name + n - 5, ".conf");
}

static void load_one(struct config *c, struct config_diags *d, const char *path, bool allow_missing)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	r = read_file(path, &text, &len);
	if (r == -ENOENT && allow_missing)
		return;
	if (r < 0) {
		char msg[300];

		snprintf(msg, sizeof(msg), "cannot read: %s", strerror(-r));
		diag_add(d, path, 0, msg);
		return;
	}
	(void)parse_text(c, d, path, text, len);
	(void)add_file(c, path);
	free(text);
}

int config_load(const char *path, bool allow_missing, struct config *ret, struct config_diags *diags)
{
	struct dirent **list = NULL;
	char dir[PATH_MAX];
	int n, i;

	memset(diags, 0, sizeof(*diags));
	config_init(ret);
	load_one(ret, diags, path, allow_missing);

	snprintf(dir, sizeof(dir), "%s.d", path);
	n = scandir(dir, &list, dropin_filter, alphasort);
	if (n < 0 && errno != ENOENT && errno != ENOTDIR) {
		char msg[300];

		snprintf(msg, sizeof(msg), "cannot read drop-in directory: %s", strerror(errno));
		diag_add(diags, dir, 0, msg);
	}
	for (i = 0; i < n; i++) {
		char f[PATH_MAX + 256];

		if (i < CONFIG_MAX_FILES) {
			snprintf(f, sizeof(f), "%s/%s", dir, list[i]->d_name);
			load_one(ret, diags, f, false);
		}
		free(list[i]);
	}
	free(list);
	validate(ret, diags, path);
	return diags->n ? -EINVAL : 0;
}

/* ---- queries, printing -------------------------------------------------- */

static void merge(struct config_nic *dst, const struct config_nic *own, const struct config_nic *def)
{
	*dst = *def;
	snprintf(dst->name, sizeof(dst->name), "%s", own->name);
	dst->set = own->set | def->set;
	if (own->set & CONFIG_NIC_KEY_RESERVE) {
		dst->reserve_count = own->reserve_count;
		dst->reserve_list = own->reserve_list;
		dst->n_reserve_list = own->n_reserve_list;
	}
	if (own->set & CONFIG_NIC_KEY_CHANNELS)
		dst->channels = own->channels;
	if (own->set & CONFIG_NIC_KEY_STEERING) {
		memcpy(dst->steering, own->steering, sizeof(own->steering));
		dst->n_steering = own->n_steering;
	}
	if (own->set & CONFIG_NIC_KEY_HEADER_SPLIT)
		dst->header_split = own->header_split;
	if (own->set & CONFIG_NIC_KEY_ON_EXHAUSTION)
		dst->on_exhaustion = own->on_exhaustion;
	if (own->set & CONFIG_NIC_KEY_FALLBACK)
		dst->fallback = own->fallback;
}

bool config_nic_is_named(const struct config *c, const char *ifname)
{
	size_t i;

	for (i = 0; i < c->n_nics; i++)
		if (!strcmp(c->nics[i].name, ifname))
			return true;
	return false;
}

bool config_nic_policy(const struct config *c, const char *ifname, struct config_nic *ret)
{
	size_t i;

	for (i = 0; i < c->n_nics; i++)
		if (!strcmp(c->nics[i].name, ifname)) {
			merge(ret, &c->nics[i], &c->nic_default);
			return true;
		}
	if (!c->has_nic_default)
		return false;
	*ret = c->nic_default;
	snprintf(ret->name, sizeof(ret->name), "%s", ifname);
	return true;
}

static void print_nic(const struct config_nic *n, FILE *f)
{
	size_t i;

	fprintf(f, "\n[nic %s]\n", n->name);
	if (n->reserve_list) {
		fputs("ReserveQueues=", f);
		for (i = 0; i < n->n_reserve_list; i++)
			fprintf(f, "%s%u", i ? "," : "", n->reserve_list[i]);
		if (n->n_reserve_list == 1)
			fputc(',', f);
		fputc('\n', f);
	} else {
		fprintf(f, "ReserveQueues=%u\n", n->reserve_count);
	}
	fprintf(f, "Channels=%u\n", n->channels);
	fputs("Steering=", f);
	for (i = 0; i < n->n_steering; i++)
		fprintf(f, "%s%s", i ? "," : "", config_steering_name(n->steering[i]));
	fputc('\n', f);
	fprintf(f, "HeaderSplit=%s\n", config_header_split_name(n->header_split));
	fprintf(f, "OnExhaustion=%s\n", config_on_exhaustion_name(n->on_exhaustion));
	fprintf(f, "Fallback=%s\n", config_fallback_name(n->fallback));
}

void config_print(const struct config *c, FILE *f)
{
	size_t i;

	fputs("[daemon]\n", f);
	fprintf(f, "LibvirtURI=%s\n", c->libvirt_uri ? c->libvirt_uri : "none");
	fprintf(f, "AutoAttach=%s\n", config_autoattach_name(c->autoattach));
	fprintf(f, "SocketGroup=%s\n", c->socket_group ? c->socket_group : "");
	fprintf(f, "AdminGroup=%s\n", c->admin_group ? c->admin_group : "");
	fprintf(f, "ReconcileIntervalSec=%u\n", c->reconcile_interval_sec);
	fprintf(f, "HookStrict=%s\n", c->hook_strict ? "yes" : "no");
	config_control_print(&c->control, f);
	if (c->has_nic_default)
		print_nic(&c->nic_default, f);
	for (i = 0; i < c->n_nics; i++) {
		struct config_nic eff;

		config_nic_policy(c, c->nics[i].name, &eff);
		print_nic(&eff, f);
	}
}
