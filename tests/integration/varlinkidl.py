# SPDX-License-Identifier: MIT
"""varlinkidl: a strict parser of the Varlink interface definition language
(the grammar of varlink.org) and a checker of replies against it, for the
test suite.  Standard library only.

    python3 varlinkidl.py FILE.varlink...   parse, check, print a summary

parse() refuses what the grammar does not allow and what makes an
interface ambiguous: a member name used twice (types, methods and errors
share one namespace), a field twice in one struct, a type that is never
declared, "??", a struct that mixes fields and enum names, bad names.

Checker.reply() takes one reply message and the method it answers (None
when unknown) and returns the problems: a field that is not declared, a
declared field missing or of the wrong type, an error that is not declared
(in the interface or in org.varlink.service) or whose parameters are not
the declared ones.
"""
import re
import sys

# org.varlink.service as the Varlink specification defines it.
SERVICE_IDL = """
interface org.varlink.service
method GetInfo() -> (vendor: string, product: string, version: string, url: string,
                     interfaces: []string)
method GetInterfaceDescription(interface: string) -> (description: string)
error InterfaceNotFound (interface: string)
error MethodNotFound (method: string)
error MethodNotImplemented (method: string)
error InvalidParameter (parameter: string)
error PermissionDenied ()
error ExpectedMore ()
"""

IFACE_RE = re.compile(r"[A-Za-z](-*[A-Za-z0-9])*(\.[A-Za-z0-9](-*[A-Za-z0-9])*)+$")
NAME_RE = re.compile(r"[A-Z][A-Za-z0-9]*$")
FIELD_RE = re.compile(r"[A-Za-z](_?[A-Za-z0-9])*$")
BASIC = ("bool", "int", "float", "string", "object")


class IdlError(Exception):
    pass


class Type:
    """kind: basic name, "named", "struct", "enum", "array", "map";
    maybe: "?"; of: element type; fields: [(name, Type)]; names: enum."""

    def __init__(self, kind, maybe=False, of=None, fields=None, names=None, ref=None):
        self.kind, self.maybe, self.of, self.fields, self.names, self.ref = \
            kind, maybe, of, fields, names, ref

    def __repr__(self):
        s = "?" if self.maybe else ""
        if self.kind == "array":
            return s + "[]" + repr(self.of)
        if self.kind == "map":
            return s + "[string]" + repr(self.of)
        if self.kind == "named":
            return s + self.ref
        if self.kind == "struct":
            return s + "(" + ", ".join("%s: %r" % f for f in self.fields) + ")"
        if self.kind == "enum":
            return s + "(" + ", ".join(self.names) + ")"
        return s + self.kind


class Lexer:
    TOKEN = re.compile(r"\s+|#[^\n]*|->|\[string\]|\[\]|[():,?]|[A-Za-z0-9_.\-]+")

    def __init__(self, text):
        self.toks, pos = [], 0
        while pos < len(text):
            m = self.TOKEN.match(text, pos)
            if not m:
                raise IdlError("line %d: unexpected %r" % (text.count("\n", 0, pos) + 1,
                                                            text[pos]))
            t = m.group(0)
            if not (t.isspace() or t.startswith("#")):
                self.toks.append((t, text.count("\n", 0, pos) + 1))
            pos = m.end()
        self.i = 0

    def peek(self):
        return self.toks[self.i][0] if self.i < len(self.toks) else None

    def line(self):
        return self.toks[min(self.i, len(self.toks) - 1)][1] if self.toks else 0

    def take(self, want=None):
        t = self.peek()
        if t is None:
            raise IdlError("unexpected end of the description")
        if want is not None and t != want:
            raise IdlError("line %d: expected %r, got %r" % (self.line(), want, t))
        self.i += 1
        return t


class Interface:
    def __init__(self, text):
        lx = Lexer(text)
        lx.take("interface")
        self.name = lx.take()
        if not IFACE_RE.match(self.name) or len(self.name) > 255:
            raise IdlError("invalid interface name %r" % self.name)
        self.types, self.methods, self.errors = {}, {}, {}
        seen = set()
        while lx.peek() is not None:
            line = lx.line()
            kw = lx.take()
            if kw not in ("type", "method", "error"):
                raise IdlError("line %d: expected type, method or error, got %r" % (line, kw))
            name = lx.take()
            if not NAME_RE.match(name):
                raise IdlError("line %d: invalid member name %r" % (line, name))
            if name in seen:
                raise IdlError("line %d: %s %s: the name is already a member (types, methods "
                               "and errors share one namespace)" % (line, kw, name))
            seen.add(name)
            if kw == "type":
                t = self.struct_or_enum(lx)
                self.types[name] = t
            elif kw == "method":
                inp = self.struct(lx)
                lx.take("->")
                self.methods[name] = (inp, self.struct(lx))
            else:
                self.errors[name] = self.struct(lx)
        if not seen:
            raise IdlError("an interface needs at least one member")
        for name, t in self.types.items():
            self.resolve(t, "type " + name)
        for name, (i, o) in self.methods.items():
            self.resolve(i, "method %s input" % name)
            self.resolve(o, "method %s output" % name)
        for name, t in self.errors.items():
            self.resolve(t, "error " + name)

    def struct_or_enum(self, lx):
        t = self.struct(lx, allow_enum=True)
        return t

    def struct(self, lx, allow_enum=False):
        lx.take("(")
        fields, names = [], []
        while lx.peek() != ")":
            line = lx.line()
            fname = lx.take()
            if not FIELD_RE.match(fname):
                raise IdlError("line %d: invalid field name %r" % (line, fname))
            if fname in [f for f, _ in fields] or fname in names:
                raise IdlError("line %d: field %r twice" % (line, fname))
            if lx.peek() == ":":
                lx.take(":")
                fields.append((fname, self.type(lx)))
            else:
                names.append(fname)
            if lx.peek() == ",":
                lx.take(",")
                if lx.peek() == ")":
                    raise IdlError("line %d: a comma before ')'" % lx.line())
            elif lx.peek() != ")":
                raise IdlError("line %d: expected ',' or ')', got %r" % (lx.line(), lx.peek()))
        lx.take(")")
        if fields and names:
            raise IdlError("line %d: a struct mixes fields and enum names" % lx.line())
        if names:
            return Type("enum", names=names)
        return Type("struct", fields=fields)

    def type(self, lx):
        maybe = False
        if lx.peek() == "?":
            lx.take("?")
            maybe = True
            if lx.peek() == "?":
                raise IdlError("line %d: '??'" % lx.line())
        t = lx.peek()
        if t == "[]" or t == "[string]":
            lx.take()
            return Type("array" if t == "[]" else "map", maybe, of=self.type(lx))
        if t == "(":
            st = self.struct(lx, allow_enum=True)
            st.maybe = maybe
            return st
        lx.take()
        if t in BASIC:
            return Type(t, maybe)
        if NAME_RE.match(t):
            return Type("named", maybe, ref=t)
        raise IdlError("line %d: not a type: %r" % (lx.line(), t))

    def resolve(self, t, where):
        if t.kind == "named" and t.ref not in self.types:
            raise IdlError("%s: type %s is not declared" % (where, t.ref))
        if t.kind in ("array", "map"):
            self.resolve(t.of, where)
        if t.kind == "struct":
            for _, ft in t.fields:
                self.resolve(ft, where)


def parse(text):
    return Interface(text)


class Checker:
    """Replies of the interfaces given, org.varlink.service included."""

    def __init__(self, *texts):
        self.ifaces = {}
        for text in (SERVICE_IDL,) + texts:
            i = parse(text)
            self.ifaces[i.name] = i

    def split(self, qualified):
        iface, _, member = (qualified or "").rpartition(".")
        return self.ifaces.get(iface), member

    def value(self, iface, t, v, path, out):
        if v is None:
            if not t.maybe:
                out.append("%s: null for %r" % (path, t))
            return
        k = t.kind
        if k == "named":
            t2 = iface.types[t.ref]
            return self.value(iface, t2, v, path, out)
        ok = {"bool": lambda: isinstance(v, bool),
              "int": lambda: isinstance(v, int) and not isinstance(v, bool),
              "float": lambda: isinstance(v, (int, float)) and not isinstance(v, bool),
              "string": lambda: isinstance(v, str),
              "object": lambda: isinstance(v, dict),
              "array": lambda: isinstance(v, list),
              "map": lambda: isinstance(v, dict),
              "struct": lambda: isinstance(v, dict),
              "enum": lambda: isinstance(v, str) and v in t.names}[k]()
        if not ok:
            out.append("%s: %r is not %r" % (path, v, t))
            return
        if k == "array":
            for n, x in enumerate(v):
                self.value(iface, t.of, x, "%s[%d]" % (path, n), out)
        elif k == "map":
            for key, x in v.items():
                self.value(iface, t.of, x, "%s[%r]" % (path, key), out)
        elif k == "struct":
            self.fields(iface, t, v, path, out)

    def fields(self, iface, t, v, path, out):
        declared = dict(t.fields)
        for key in v:
            if key not in declared:
                out.append("%s.%s: not declared" % (path, key))
        for name, ft in t.fields:
            if name not in v:
                if not ft.maybe:
                    out.append("%s.%s: missing" % (path, name))
                continue
            self.value(iface, ft, v[name], "%s.%s" % (path, name), out)

    def reply(self, msg, method):
        """The problems of reply msg to method (qualified name, or None)."""
        out = []
        if not isinstance(msg, dict):
            return ["the reply is not an object"]
        for key in msg:
            if key not in ("parameters", "continues", "error"):
                out.append("reply: %r is no Varlink reply field" % key)
        params = msg.get("parameters", {})
        if params is None:
            params = {}
        if not isinstance(params, dict):
            return out + ["parameters is not an object"]
        if "error" in msg:
            iface, name = self.split(msg["error"])
            if not iface or name not in iface.errors:
                return out + ["error %r is not declared" % msg["error"]]
            self.fields(iface, iface.errors[name], params, msg["error"], out)
            return out
        iface, name = self.split(method)
        if not iface or name not in iface.methods:
            return out + ["a reply to %r, which no interface declares" % method]
        self.fields(iface, iface.methods[name][1], params, method, out)
        return out


def main(argv):
    rc = 0
    for path in argv:
        try:
            with open(path) as f:
                i = parse(f.read())
            print("%s: interface %s, %d types, %d methods, %d errors" %
                  (path, i.name, len(i.types), len(i.methods), len(i.errors)))
        except (IdlError, OSError) as e:
            print("%s: %s" % (path, e))
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
