#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The interface description lib/io.zcrx.Manager.varlink against a strict
Varlink IDL parser (varlinkidl.py), and that parser and its reply checker
against what they must refuse (issue 10, item 6).  The same checker sees
every reply of the integration, kernel, attach and libvirt tiers
(zxtest.VarlinkClient); the lint tier also runs Debian's varlink-go parser
on the file.  No daemon, no root."""
import os
import unittest

import varlinkidl
import zxtest
from varlinkidl import Checker, IdlError, parse

IDL = os.path.join(zxtest.TOP, "lib", "io.zcrx.Manager.varlink")


class TheInterface(unittest.TestCase):
    def test_the_committed_idl_is_valid(self):
        with open(IDL) as f:
            i = parse(f.read())
        self.assertEqual(i.name, "io.zcrx.Manager")
        self.assertIn("GetStatus", i.methods)
        # methods keep their names: types are not on the wire
        for m in ("Plan", "Attach", "Detach", "ListAttachments", "Reconcile", "Release",
                  "GetNic", "ListQueues", "Monitor"):
            self.assertIn(m, i.methods)

    def test_the_service_interface_is_the_daemons(self):
        """org.varlink.service as the checker knows it is the text zcrxd
        serves (zcrxd/ipc-service.c)."""
        with open(os.path.join(zxtest.TOP, "zcrxd", "ipc-service.c")) as f:
            src = f.read()
        for line in ("error InterfaceNotFound (interface: string)",
                     "error MethodNotFound (method: string)",
                     "error InvalidParameter (parameter: string)",
                     "error ExpectedMore ()"):
            self.assertIn(line, src)
            self.assertIn(line, varlinkidl.SERVICE_IDL)


class Parser(unittest.TestCase):
    def refused(self, text, why):
        with self.assertRaises(IdlError) as e:
            parse(text)
        self.assertIn(why, str(e.exception))

    def test_refuses(self):
        self.refused("interface a.b\ntype Plan (x: int)\nmethod Plan() -> ()\n",
                     "already a member")
        self.refused("interface a.b\nerror X ()\ntype X (a: int)\n", "already a member")
        self.refused("interface a.b\nmethod M() -> (p: Nope)\n", "type Nope is not declared")
        self.refused("interface a.b\nmethod M() -> (p: ??int)\n", "'??'")
        self.refused("interface a.b\nmethod M() -> (a: int, a: string)\n", "twice")
        self.refused("interface a.b\ntype T (a: int, b)\n", "mixes fields and enum")
        self.refused("interface a.b\nmethod m() -> ()\n", "invalid member name")
        self.refused("interface a.b\nmethod M() -> (A-b: int)\n", "")
        self.refused("interface a.b\nmethod M() -> (a__b: int)\n", "invalid field name")
        self.refused("interface ab\nmethod M() -> ()\n", "invalid interface name")
        self.refused("interface a.b\n", "at least one member")
        self.refused("interface a.b\nmethod M() -> (a: int,)\n", "comma")
        self.refused("interface a.b\nmethod M() (a: int)\n", "expected '->'")

    def test_accepts(self):
        i = parse("# doc\ninterface io.Example-1.X\n\n# a type\ntype T (\n  a: ?[]int,\n"
                  "  b: [string]?T2, c: (x: float, y: object), e: (one, two)\n)\n"
                  "type T2 (x, y)\nmethod M(t: T) -> ()\nerror E (why: string)\n")
        self.assertEqual(sorted(i.types), ["T", "T2"])
        self.assertEqual(list(i.errors), ["E"])


class Replies(unittest.TestCase):
    IDL = ("interface a.b\ntype T (n: int, s: ?string, e: (red, blue), m: [string]bool)\n"
           "method Get() -> (t: T, list: []T, o: object, f: float)\n"
           "error Bad (why: string, n: ?int)\n")

    def setUp(self):
        self.c = Checker(self.IDL)
        self.t = {"n": 1, "e": "red", "m": {"x": True}}

    def ok(self, reply, method="a.b.Get"):
        self.assertEqual(self.c.reply(reply, method), [])

    def bad(self, reply, why, method="a.b.Get"):
        problems = self.c.reply(reply, method)
        self.assertTrue(any(why in p for p in problems), problems)

    def test_replies(self):
        self.ok({"parameters": {"t": self.t, "list": [], "o": {"any": [1]}, "f": 2}})
        self.ok({"parameters": {"t": dict(self.t, s=None), "list": [self.t], "o": {}, "f": 0.5},
                 "continues": True})
        base = {"t": self.t, "list": [], "o": {}, "f": 1.0}
        self.bad({"parameters": dict(base, extra=1)}, "extra: not declared")
        self.bad({"parameters": {"t": self.t, "list": [], "o": {}}}, ".f: missing")
        self.bad({"parameters": dict(base, t=dict(self.t, n="1"))}, "t.n: '1' is not int")
        self.bad({"parameters": dict(base, t=dict(self.t, n=True))}, "is not int")
        self.bad({"parameters": dict(base, t=dict(self.t, e="green"))}, "is not (red, blue)")
        self.bad({"parameters": dict(base, t=dict(self.t, m={"x": 1}))}, "is not bool")
        self.bad({"parameters": dict(base, list=[{"n": 1}])}, "list[0].e: missing")
        self.bad({"parameters": dict(base, t=None)}, "null for")
        self.bad({"parameters": base, "more": True}, "no Varlink reply field")
        self.bad({"parameters": base}, "which no interface declares", method="a.b.Nope")
        self.bad({"parameters": base}, "which no interface declares", method=None)

    def test_errors(self):
        self.ok({"error": "a.b.Bad", "parameters": {"why": "x"}}, method=None)
        self.ok({"error": "org.varlink.service.InvalidParameter",
                 "parameters": {"parameter": "x"}})
        self.ok({"error": "org.varlink.service.ExpectedMore", "parameters": {}})
        self.bad({"error": "a.b.Worse", "parameters": {}}, "is not declared")
        self.bad({"error": "a.b.Bad", "parameters": {"why": "x", "message": "m"}},
                 "message: not declared")
        self.bad({"error": "org.varlink.service.InvalidParameter", "parameters": {}},
                 "parameter: missing")
        self.bad({"error": "org.varlink.service.InvalidParameter",
                  "parameters": {"parameter": "x", "message": "y"}}, "not declared")


if __name__ == "__main__":
    zxtest.main()
