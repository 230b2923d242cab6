/// Python helpers of the revocation tests, run through `KernelSandbox.spawn`
/// (argv: cgroup netns mode args...): the process joins the cgroup first,
/// then the namespace, then opens its sockets.
enum RevocationScript {
    static let text = #"""
import ctypes, errno, os, select, socket, sys, time
cgroup, netns, mode, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
if cgroup != "-":
    with open(cgroup + "/cgroup.procs", "w") as f: f.write(str(os.getpid()))
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("/run/netns/" + netns, os.O_RDONLY)
if libc.setns(fd, 0x40000000) != 0: print("setns-failed", ctypes.get_errno()); sys.exit(1)
print("pid", os.getpid())
if mode == "echo-server":       # addr tcp_ports udp_ports (comma lists, may be empty)
    addr, tcp, udp = args[0], [int(p) for p in args[1].split(",") if p], [int(p) for p in args[2].split(",") if p]
    listeners, udps, conns = [], [], []
    for p in tcp:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((addr, p)); s.listen(64); listeners.append(s)
    for p in udp:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((addr, p)); udps.append(s)
    print("ready")
    while True:
        r, _, _ = select.select(listeners + udps + conns, [], [])
        for s in r:
            if s in listeners:
                c, _ = s.accept(); conns.append(c)
            elif s in udps:
                data, peer = s.recvfrom(2048); s.sendto(data, peer)
            else:
                try:
                    data = s.recv(2048)
                    if data: s.sendall(data); continue
                except OSError: pass
                conns.remove(s); s.close()
elif mode == "echo-backlog0":   # addr port: one TCP echo server whose listen() backlog is 0
    addr, port = args[0], int(args[1])
    l0 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    l0.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l0.bind((addr, port)); l0.listen(0)
    print("ready")
    conns = []
    while True:
        r, _, _ = select.select([l0] + conns, [], [])
        for s in r:
            if s is l0:
                c, _ = l0.accept(); conns.append(c)
            else:
                try:
                    data = s.recv(2048)
                    if data: s.sendall(data); continue
                except OSError: pass
                conns.remove(s); s.close()
elif mode == "hold":            # src stopfile spec... (spec: name,tcp|udp,dst,port)
    # Holds each connection open, exchanging a byte every 2 ms; prints
    # "cut NAME T" (T: CLOCK_MONOTONIC seconds) when one stops working and,
    # at the stop file, "alive NAME" for each one still open.
    src, stop, specs = args[0], args[1], [a.split(",") for a in args[2:]]
    socks = {}
    for name, proto, dst, port in specs:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
        s.bind((src, 0)); s.settimeout(3); s.connect((dst, int(port)))
        s.send(b"x"); s.recv(16)                     # proves the path works
        s.setblocking(False); socks[name] = s
    print("ready")
    while not os.path.exists(stop):
        for name, s in list(socks.items()):
            try:
                s.send(b"x")
                r, _, _ = select.select([s], [], [], 0.5)
                if r and s.type == socket.SOCK_STREAM and s.recv(16) == b"": raise OSError(errno.ECONNRESET, "closed")
                if r and s.type == socket.SOCK_DGRAM: s.recv(16)
            except OSError as e:
                print("cut %s %.6f %d" % (name, time.clock_gettime(time.CLOCK_MONOTONIC), e.errno or 0))
                del socks[name]
        time.sleep(0.002)
    for name in sorted(socks): print("alive", name)
elif mode == "connect-once":    # src dst port
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM); s.settimeout(2)
    try:
        s.bind((args[0], 0)); s.connect((args[1], int(args[2]))); s.send(b"y"); s.recv(16); print("connected")
    except PermissionError: print("EPERM")
    except socket.timeout: print("timeout")
    except OSError as e: print("oserror", e.errno)
"""#
}
