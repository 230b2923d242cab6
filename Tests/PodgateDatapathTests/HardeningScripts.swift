import Foundation

extension KernelSandbox {
    /// Starts `script` (python) like `probe`: joins `cgroup` first, then
    /// `namespace`, then runs the mode given in `arguments`.
    func spawn(script: String, cgroup: String?, namespace: String, _ arguments: [String]) throws -> ProbeProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", "-c", script, cgroup ?? "-", namespace] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        children.append(process)
        return ProbeProcess(process: process, output: output.fileHandleForReading)
    }
}

extension ProbeProcess {
    /// `finish()`, waiting for the exit without blocking a thread (for
    /// output that fits the pipe: a few lines).
    func finishedAsync() async throws -> (pid: Int32, lines: [String]) {
        while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        return finish()
    }
}

/// Probes for the known bypasses: forged sources, raw sockets, TCP Fast
/// Open, unconnected UDP, sockets made before a cgroup move. Each prints
/// one line per outcome.
enum BypassScript {
    static let text = #"""
import ctypes, os, socket, struct, sys, time, select
cgroup, netns, mode = sys.argv[1], sys.argv[2], sys.argv[3]
args = sys.argv[4:]
def join_cgroup(path):
    with open(path + "/cgroup.procs", "w") as f: f.write(str(os.getpid()))
early = None
libc = ctypes.CDLL(None, use_errno=True)
def enter_netns():
    fd = os.open("/run/netns/" + netns, os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0:
        print("setns-failed", ctypes.get_errno()); sys.exit(1)
if mode == "early-socket":
    # A socket made in the pod's network namespace BEFORE the process moves
    # into the pod cgroup (setns does not remount /sys, so joining after works).
    enter_netns()
    early = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if cgroup != "-": join_cgroup(cgroup)
else:
    if cgroup != "-": join_cgroup(cgroup)
    enter_netns()
print("pid", os.getpid())
def csum(data):
    if len(data) % 2: data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def syn4(src, dst, sport, dport):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return ip + tcp
def outcome(f):
    try: f(); print("sent")
    except PermissionError: print("EPERM")
    except OSError as e: print("oserror", e.errno)
if mode == "raw-syn":          # src dst dport count
    src, dst, dport, count = args[0], args[1], int(args[2]), int(args[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for i in range(count):
        outcome(lambda: s.sendto(syn4(src, dst, 40000 + i, dport), (dst, 0)))
elif mode == "raw-flood":      # src dst dport count ports: count SYNs cycling over `ports` source ports
    src, dst, dport, count, ports = args[0], args[1], int(args[2]), int(args[3]), int(args[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    packets = [syn4(src, dst, 30000 + i, dport) for i in range(ports)]
    sent = 0
    for i in range(count):
        while True:
            try: s.sendto(packets[i % ports], (dst, 0)); sent += 1; break
            except OSError: time.sleep(0.001)  # ENOBUFS: the packet was not sent, send it again
    print("sent", sent)
elif mode == "connect-from":   # src dst port timeout: one TCP connect from a bound source
    src, dst, port, timeout = args[0], args[1], int(args[2]), float(args[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try: s.bind((src, 0)); s.connect((dst, port)); print("connected")
    except PermissionError: print("EPERM")
    except socket.timeout: print("timeout")
    except ConnectionRefusedError: print("refused")
    except OSError as e: print("oserror", e.errno)
elif mode == "sniff-synack":   # port seconds: prints "synack SRC" for SYN+ACK packets from port
    port, seconds = int(args[0]), float(args[1])
    t = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    print("ready")
    end = time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([t], [], [], max(0, end - time.time()))
        if not r: continue
        data = t.recv(2000)
        ihl = (data[0] & 15) * 4
        sport = struct.unpack("!H", data[ihl:ihl + 2])[0]
        if sport == port and data[ihl + 13] & 0x12 == 0x12: print("synack", socket.inet_ntoa(data[12:16]))
    print("done")
elif mode == "self":           # own_addr port: loopback and own address, to a listener in the same pod
    own, port = args[0], int(args[1])
    l = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    l.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    l.bind(("::", port)); l.listen(8)
    for dst in ("127.0.0.1", own, "::1", "::ffff:" + own):
        s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(1.5)
        try: s.connect((dst, port)); print(dst, "connected")
        except PermissionError: print(dst, "EPERM")
        except socket.timeout: print(dst, "timeout")
        except OSError as e: print(dst, "oserror", e.errno)
elif mode == "transparent-udp":  # src dst dport: bind a foreign address and send
    # IP_FREEBIND alone cannot send from it (the route lookup refuses a
    # non-local source: ENETUNREACH); IP_TRANSPARENT (CAP_NET_ADMIN) can.
    src, dst, dport = args[0], args[1], int(args[2])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_IP, 19, 1)  # IP_TRANSPARENT
    s.bind((src, 0))
    outcome(lambda: s.sendto(b"forged", (dst, dport)))
elif mode == "sniff":          # port seconds: prints "syn SRC" / "udp SRC" for packets to port
    port, seconds = int(args[0]), float(args[1])
    t = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    u = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    print("ready")
    end = time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([t, u], [], [], max(0, end - time.time()))
        for sock in r:
            data = sock.recv(2000)
            ihl = (data[0] & 15) * 4
            src = socket.inet_ntoa(data[12:16])
            dport = struct.unpack("!H", data[ihl + 2:ihl + 4])[0]
            if dport != port: continue
            if sock is t and data[ihl + 13] & 0x02: print("syn", src)
            if sock is u: print("udp", src)
    print("done")
elif mode == "tfo":            # dst port: sendto(MSG_FASTOPEN) without connect
    dst, port = args[0], int(args[1])
    s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.sendto(b"hello", 0x20000000, (dst, port)); s.recv(10); print("connected")
    except PermissionError: print("EPERM")
    except socket.timeout: print("timeout")
    except ConnectionRefusedError: print("refused")
    except OSError as e: print("oserror", e.errno)
elif mode == "udp-unconnected":  # dst port: sendto on an unconnected socket, both families
    dst, port = args[0], int(args[1])
    for fam, addr in ((socket.AF_INET, dst), (socket.AF_INET6, "::ffff:" + dst)):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        outcome(lambda: s.sendto(b"x", (addr, port)))
elif mode == "early-socket":   # dst port: connect with the socket made before the move
    dst, port = args[0], int(args[1])
    early.settimeout(2)
    try: early.connect((dst, port)); print("connected")
    except PermissionError: print("EPERM")
    except socket.timeout: print("timeout")
    except ConnectionRefusedError: print("refused")
    except OSError as e: print("oserror", e.errno)
elif mode == "loop":           # src|- dst allowed_port denied_port stopfile max_seconds
    # Connects alternately to an allowed and a denied port until stopfile
    # exists; counts what happened. A leak is a denied connect that connected.
    src, dst, ok_port, bad_port, stop, limit = args[0], args[1], int(args[2]), int(args[3]), args[4], float(args[5])
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    counts = {"allowed_ok": 0, "allowed_fail": 0, "denied_blocked": 0, "denied_leaked": 0}
    failures = []
    def attempt(port, timeout):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            if src != "-": s.bind((src, 0))
            s.connect((dst, port)); return "connected"
        except PermissionError: return "EPERM"
        except socket.timeout: return "timeout"
        except ConnectionRefusedError: return "refused"
        except OSError as e: return "oserror %d" % e.errno
        finally: s.close()
    print("ready")
    end = time.time() + limit
    while not os.path.exists(stop) and time.time() < end:
        if ok_port > 0:
            r = attempt(ok_port, 3.0)
            if r == "connected": counts["allowed_ok"] += 1
            else:
                counts["allowed_fail"] += 1; failures.append("%.3f allowed %s" % (time.time(), r))
        if bad_port > 0:
            r = attempt(bad_port, 0.5)
            if r == "connected":
                counts["denied_leaked"] += 1; failures.append("%.3f denied-leaked" % time.time())
            else: counts["denied_blocked"] += 1
        time.sleep(0.002)
    print(" ".join("%s=%d" % kv for kv in sorted(counts.items())))
    for f in failures[:20]: print(f)
elif mode == "accept-loop":    # addr port port... : accepts forever on every port
    addr, ports = args[0], [int(p) for p in args[1:]]
    socks = []
    for p in ports:
        s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, p)); s.listen(512); socks.append(s)
    print("ready")
    while True:
        r, _, _ = select.select(socks, [], [])
        for s in r:
            c, _ = s.accept(); c.close()
elif mode == "listen-dual":    # port seconds: an AF_INET6 dual-stack listener on [::]
    port, seconds = int(args[0]), float(args[1])
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port)); s.listen(64); s.settimeout(seconds)
    print("ready")
    try:
        c, peer = s.accept(); print("accepted", peer[0]); c.close()  # the first one only
    except socket.timeout: print("done")
"""#
}
