# SPDX-License-Identifier: MIT
"""zxattack: hostile clients of zcrxd's control socket, for the integration
tier and bench/bench-socket.py.  Standard library only; run it as a program
under the uid to attack from (e.g. `setpriv --reuid=65534 ...`):

    zxattack.py --socket PATH --conns N MODE[,MODE...]

It opens N connections, spreads them over the modes round-robin, starts
every attack, prints "ready <opened> <refused>" on stdout, and keeps
attacking until its standard input closes; then it prints one JSON line of
counters and exits.  Modes:

  idle             connect and say nothing
  partial          half a message, then nothing
  pipeline         keep ListQueues{refresh:true} requests in flight (PIPE
                   of them written ahead), reading the replies
  empty            write empty messages (NUL bytes) in 100k batches,
                   reading the error replies
  desc-noread      pipeline 2000 GetInterfaceDescription, never read
  monitor-noread   Monitor with "more", never read
"""
import json
import os
import select
import selectors
import socket
import sys

PIPE = 12000
EMPTY_BATCH = 100000


def msg(method, params=None, more=False):
    m = {"method": method}
    if params is not None:
        m["parameters"] = params
    if more:
        m["more"] = True
    return json.dumps(m).encode() + b"\0"


class Conn:
    def __init__(self, path, mode):
        self.mode = mode
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.setblocking(False)
        self.out = b""
        self.replies = 0
        self.inflight = 0
        self.errors = {}
        self.buf = b""
        self.closed = False
        self.reads = mode in ("pipeline", "empty")

    def start(self):
        if self.mode == "partial":
            self.out = b'{"method":"io.zcrx.Manager.GetSt'
        elif self.mode == "desc-noread":
            self.out = msg("org.varlink.service.GetInterfaceDescription",
                           {"interface": "io.zcrx.Manager"}) * 2000
        elif self.mode == "monitor-noread":
            self.out = msg("io.zcrx.Manager.Monitor", {}, more=True)
        self.refill()

    def refill(self):
        if self.mode == "pipeline" and self.inflight < PIPE // 2 and len(self.out) < 65536:
            n = PIPE - self.inflight
            self.out += msg("io.zcrx.Manager.ListQueues", {"refresh": True}) * n
            self.inflight += n
        elif self.mode == "empty" and len(self.out) < 65536 and self.inflight < EMPTY_BATCH:
            self.out += b"\0" * EMPTY_BATCH
            self.inflight += EMPTY_BATCH

    def want(self):
        ev = 0
        if self.out:
            ev |= selectors.EVENT_WRITE
        if self.reads:
            ev |= selectors.EVENT_READ
        return ev

    def on_write(self):
        try:
            n = self.sock.send(self.out)
            self.out = self.out[n:]
        except BlockingIOError:
            pass
        except OSError:
            self.closed = True

    def on_read(self):
        try:
            data = self.sock.recv(1 << 20)
        except BlockingIOError:
            return
        except OSError:
            self.closed = True
            return
        if not data:
            self.closed = True
            return
        self.buf += data
        parts = self.buf.split(b"\0")
        self.buf = parts.pop()
        for p in parts:
            self.replies += 1
            self.inflight -= 1
            try:
                e = json.loads(p.decode()).get("error")
            except ValueError:
                e = "undecodable"
            if e:
                self.errors[e] = self.errors.get(e, 0) + 1
        self.refill()


def main():
    args = sys.argv[1:]
    path, conns, modes = None, 1, None
    while args:
        a = args.pop(0)
        if a == "--socket":
            path = args.pop(0)
        elif a == "--conns":
            conns = int(args.pop(0))
        else:
            modes = a.split(",")
    if not path or not modes:
        sys.stderr.write(__doc__)
        return 2
    sel = selectors.DefaultSelector()
    cs, refused = [], 0
    for i in range(conns):
        try:
            c = Conn(path, modes[i % len(modes)])
        except OSError:
            refused += 1
            continue
        cs.append(c)
    for c in cs:
        c.start()
        c.on_write()
        if c.want():
            sel.register(c.sock, c.want(), c)
    sel.register(sys.stdin, selectors.EVENT_READ, None)
    print("ready %d %d" % (len(cs), refused), flush=True)
    running = True
    while running:
        for key, ev in sel.select():
            c = key.data
            if c is None:
                if not os.read(sys.stdin.fileno(), 4096):
                    running = False
                continue
            if ev & selectors.EVENT_WRITE:
                c.on_write()
            if ev & selectors.EVENT_READ:
                c.on_read()
            if c.closed:
                sel.unregister(c.sock)
                c.sock.close()
                continue
            w = c.want()
            if w:
                sel.modify(c.sock, w, c)
            else:
                sel.unregister(c.sock)
    cut = 0
    for c in cs:
        if c.closed:
            continue
        p = select.poll()
        p.register(c.sock, select.POLLRDHUP)
        if p.poll(0):
            c.closed = True
    out = {"conns": len(cs), "refused": refused,
           "closed_by_zcrxd": sum(1 for c in cs if c.closed),
           "replies": sum(c.replies for c in cs), "errors": {}}
    for c in cs:
        for k, v in c.errors.items():
            out["errors"][k] = out["errors"].get(k, 0) + v
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
