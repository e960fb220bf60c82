#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""abi-policy.py HEADER policy|cases — what lib/vhost_zcrx.h promises about
requests, in the forms the sim-nic guest checks the loaded module against.

  policy  the request policy, one line per (command, kind) and per attribute,
          as `vzclient policy` prints the kernel's own policy dump
          (CTRL_CMD_GETPOLICY) and op flags:
              BIND do admin=yes
              BIND do IFINDEX u32 1..2147483647
              GET dump none
  cases   malformed requests derived from the same tables, one per line,
          for `vzclient malformed NIC TAP`: each must be refused with EINVAL
          (ERANGE for a value out of range: range=), an extack message, and
          the offending (bad=, range=) or missing (miss=) attribute named
          (or, for "reserved" and "flags", a bad generic netlink header:
          EINVAL and a message):
              BIND do miss=QUEUE IFINDEX=u32:nic TAP_IFINDEX=u32:tap

The tables it reads are the two in the header's comment ("attribute type
request range" and "command kind admin request attributes"); a header
without them, or a row it cannot read, is an error (exit 1), so the check
cannot pass by reading nothing.
"""
import re
import sys

LIMITS = {"INT_MAX": 2**31 - 1, "U32_MAX": 2**32 - 1}


def enums(text):
    """VHOST_ZCRX_* = N constants from the header's enums."""
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"\b(VHOST_ZCRX_\w+)\s*=\s*(\d+)\s*,", text)}


def enum_max(consts, prefix):
    vals = [v for k, v in consts.items() if k.startswith(prefix) and "UNSPEC" not in k]
    if not vals:
        raise SystemExit(f"abi-policy: no {prefix}* values in the header")
    return max(vals)


def comment_rows(text, header_re):
    """The rows of the comment table whose header line matches header_re."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"\s*\*\s+" + header_re, line):
            rows = []
            for row in lines[i + 1:]:
                body = re.sub(r"^\s*\*\s?", "", row)
                if not body.strip():
                    break
                rows.append(body.split())
            if not rows:
                break
            return rows
    raise SystemExit(f"abi-policy: no table /{header_re}/ in the header")


def read(path):
    text = open(path).read()
    consts = enums(text)
    attrs = {k[len("VHOST_ZCRX_A_"):]: v for k, v in consts.items()
             if k.startswith("VHOST_ZCRX_A_") and not k.startswith("VHOST_ZCRX_A_STATS_")
             and k != "VHOST_ZCRX_A_UNSPEC"}
    cmds = {k[len("VHOST_ZCRX_CMD_"):]: v for k, v in consts.items()
            if k.startswith("VHOST_ZCRX_CMD_") and k != "VHOST_ZCRX_CMD_UNSPEC"}
    limits = dict(LIMITS)
    limits["FALLBACK_MAX"] = enum_max(consts, "VHOST_ZCRX_FALLBACK_")
    types = {}
    for row in comment_rows(text, r"attribute\s+type\s+request range"):
        name, typ = row[0], row[1]
        if name not in attrs:
            raise SystemExit(f"abi-policy: table row {name}: no VHOST_ZCRX_A_{name}")
        rng = None
        if row[2] != "reply":
            m = re.fullmatch(r"(\w+)\.\.(\w+)", row[2])
            if not m:
                raise SystemExit(f"abi-policy: {name}: cannot read range {row[2]}")
            lo, hi = (int(x) if x.isdigit() else limits[x] for x in m.groups())
            rng = (lo, hi)
        types[name] = (typ, rng)
    if set(types) != set(attrs):
        raise SystemExit("abi-policy: attribute table and enum differ: "
                         f"{sorted(set(types) ^ set(attrs))}")
    ops = []
    for row in comment_rows(text, r"command\s+kind\s+admin\s+request attributes"):
        cmd, kind, admin, rest = row[0], row[1], row[2], row[3:]
        if cmd not in cmds or kind not in ("do", "dump") or admin not in ("yes", "no"):
            raise SystemExit(f"abi-policy: cannot read command row {' '.join(row)}")
        req = []
        for a in rest:
            if a == "none":
                continue
            name = a.rstrip("*")
            if name not in types or types[name][1] is None:
                raise SystemExit(f"abi-policy: {cmd}: {name} is not a request attribute")
            req.append((name, a.endswith("*")))
        ops.append((cmd, kind, admin, req))
    if not ops:
        raise SystemExit("abi-policy: no commands")
    return attrs, cmds, types, ops


def policy(attrs, cmds, types, ops):
    out = []
    for cmd, kind, admin, req in sorted(ops, key=lambda o: (cmds[o[0]], o[1])):
        out.append(f"{cmd} {kind} admin={admin}")
        if not req:
            out.append(f"{cmd} {kind} none")
        for name, _ in sorted(req, key=lambda r: attrs[r[0]]):
            typ, (lo, hi) = types[name]
            out.append(f"{cmd} {kind} {name} {typ} {lo}..{hi}")
    return out


def valid(name, typ, rng):
    if name == "IFINDEX":
        return f"{typ}:nic"
    if name == "TAP_IFINDEX":
        return f"{typ}:tap"
    return f"{typ}:{rng[0]}"


def cases(attrs, cmds, types, ops):
    out = []
    amax = max(attrs.values())
    for cmd, kind, _, req in sorted(ops, key=lambda o: (cmds[o[0]], o[1])):
        taken = {n for n, _ in req}
        base = {n: valid(n, *types[n]) for n, r in req if r}
        # one attribute the command does not take: the first known one
        other = next(n for n in sorted(attrs, key=attrs.get) if n not in taken)

        def line(expect, **over):
            a = dict(base)
            a.update(over)
            body = " ".join(f"{k}={v}" for k, v in a.items() if v is not None)
            return f"{cmd} {kind} {expect} {body}".rstrip()

        out.append(line(f"bad={other}", **{other: "u32:1"}))
        out.append(line(f"bad={amax + 1}", **{str(amax + 1): "u32:1"}))
        out.append(line("bad=0", **{"0": "u32:1"}))
        for name, required in req:
            typ, (lo, hi) = types[name]
            if required:
                out.append(line(f"miss={name}", **{name: None}))
            if lo > 0:
                out.append(line(f"range={name}", **{name: f"{typ}:{lo - 1}"}))
            if typ == "u32" and hi < LIMITS["U32_MAX"]:
                out.append(line(f"range={name}", **{name: f"{typ}:{hi + 1}"}))
            ok = valid(name, typ, (lo, hi)).split(":", 1)[1]
            out.append(line(f"bad={name}", **{name: f"u16:{ok}"}))
            out.append(line(f"bad={name}", **{name: f"u64:{ok}"}))
            out.append(line(f"bad={name}", **{name: f"nested-{typ}:{ok}"}))
        out.append(line("reserved", reserved="1"))
        out.append(line("flags", nlflags="0x400"))  # NLM_F_CREATE on a genl request
    return out


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("policy", "cases"):
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    tables = read(sys.argv[1])
    lines = policy(*tables) if sys.argv[2] == "policy" else cases(*tables)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
