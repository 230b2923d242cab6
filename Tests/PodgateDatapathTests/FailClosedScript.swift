/// Probes for issue 13's datapath attacks: forged "self" sources, other
/// transports (UDP-Lite, raw IP, ICMP), a UDP peer flood, masquerade. Each
/// mode prints one line per outcome; senders print how many they sent.
enum FailClosedScript {
    static let text = #"""
import ctypes, os, socket, struct, sys, time, select
cgroup, netns, mode = sys.argv[1], sys.argv[2], sys.argv[3]
args = sys.argv[4:]
libc = ctypes.CDLL(None, use_errno=True)
if cgroup != "-":
    with open(cgroup + "/cgroup.procs", "w") as f: f.write(str(os.getpid()))
fd = os.open("/run/netns/" + netns, os.O_RDONLY)
if libc.setns(fd, 0x40000000) != 0:
    print("setns-failed", ctypes.get_errno()); sys.exit(1)
print("pid", os.getpid())
UDPLITE = 136
def fam(a): return socket.AF_INET6 if ":" in a else socket.AF_INET
def csum(data):
    if len(data) % 2: data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def udp_packet(src, dst, sport, dport, payload, proto=17):
    # A complete IP packet (v4 or v6) carrying UDP (or UDP-Lite: full coverage).
    length = 8 + len(payload)
    if ":" in src:
        s6, d6 = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
        pseudo = s6 + d6 + struct.pack("!IxxxB", length, proto)
    else:
        s6, d6 = socket.inet_aton(src), socket.inet_aton(dst)
        pseudo = s6 + d6 + struct.pack("!BBH", 0, proto, length)
    field = length if proto == 17 else 0  # UDP-Lite: checksum coverage 0 = everything
    udp = struct.pack("!HHHH", sport, dport, field, 0) + payload
    c = csum(pseudo + udp) or 0xffff
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    if ":" in src:
        return struct.pack("!IHBB", 6 << 28, length, proto, 64) + s6 + d6 + udp
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, 1, 0, 64, proto, 0, s6, d6) + udp
def raw_sender(dst):
    if ":" in dst: return socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    return socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
def send_count(f, count):
    sent = 0
    for i in range(count):
        try: f(i); sent += 1
        except OSError as e: print("oserror", e.errno)
    print("sent", sent)
def until_stopped(stop, sock, on_packet):
    # Reads until the stop file exists (the sender is done), then 0.5 s more; at most 60 s.
    end, drain = time.time() + 60, None
    while time.time() < (drain or end):
        if drain is None and os.path.exists(stop): drain = time.time() + 0.5
        r, _, _ = select.select([sock], [], [], 0.05)
        if r: on_packet(sock)
if mode == "forge-udp":        # src dst dport count [proto]: raw datagrams with a chosen source
    src, dst, dport, count = args[0], args[1], int(args[2]), int(args[3])
    proto = int(args[4]) if len(args) > 4 else 17
    s = raw_sender(dst)
    send_count(lambda i: s.sendto(udp_packet(src, dst, 41000 + i, dport, b"forged"), (dst, 0)), count)
elif mode == "count-dgrams":     # proto addr port stopfile: counts datagrams (AF_INET or AF_INET6 by addr)
    proto, addr, port, stop = int(args[0]), args[1], int(args[2]), args[3]
    s = socket.socket(fam(addr), socket.SOCK_DGRAM, proto)
    if fam(addr) == socket.AF_INET6: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port))
    print("ready")
    got = []
    until_stopped(stop, s, lambda k: got.append(k.recvfrom(2000)[1][0]))
    print("received", len(got), " ".join(sorted(set(got))))
elif mode == "send-dgrams":    # proto dst port count: an ordinary socket of that protocol
    proto, dst, port, count = int(args[0]), args[1], int(args[2]), int(args[3])
    s = socket.socket(fam(dst), socket.SOCK_DGRAM, proto)
    send_count(lambda i: s.sendto(b"hello", (dst, port)), count)
elif mode == "dgram-ask":      # proto dst port wait: send one, wait for the answer
    proto, dst, port, wait = int(args[0]), args[1], int(args[2]), float(args[3])
    s = socket.socket(fam(dst), socket.SOCK_DGRAM, proto); s.settimeout(wait)
    try: s.sendto(b"hi", (dst, port)); s.recvfrom(100); print("answered")
    except PermissionError: print("EPERM")
    except socket.timeout: print("timeout")
elif mode == "dgram-echo":     # proto addr port seconds [gofile]: answer each datagram, after gofile exists
    proto, addr, port, seconds = int(args[0]), args[1], int(args[2]), float(args[3])
    go = args[4] if len(args) > 4 else None
    s = socket.socket(fam(addr), socket.SOCK_DGRAM, proto); s.bind((addr, port)); s.settimeout(seconds)
    print("ready")
    try:
        data, peer = s.recvfrom(100); print("asked", peer[0])
        end = time.time() + seconds
        while go and not os.path.exists(go) and time.time() < end: time.sleep(0.05)
        s.sendto(data, peer); print("answered")
    except socket.timeout: print("timeout")
elif mode == "peer-flood":     # src base_addr naddrs nports: one datagram to each (address, port), distinct peers
    src, base, naddrs, nports = args[0], args[1], int(args[2]), int(args[3])
    prefix, last = base.rsplit(".", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.setblocking(False)
    sent = 0
    start = time.time()
    for a in range(naddrs):
        dst = "%s.%d" % (prefix, int(last) + a)
        for p in range(nports):
            while True:
                try: s.sendto(b"x", (dst, 1024 + p)); sent += 1; break
                except BlockingIOError: time.sleep(0.0005)
                except ConnectionRefusedError: pass  # an ICMP error for an earlier datagram
                except OSError as e:
                    if e.errno in (105, 11): time.sleep(0.0005)  # ENOBUFS, EAGAIN: send it again
                    else: raise
    print("sent", sent, "in %.1f s" % (time.time() - start))
elif mode == "count-raw":      # proto addr stopfile: a raw socket of that IP protocol, counts what it gets
    proto, addr, stop = int(args[0]), args[1], args[2]
    s = socket.socket(fam(addr), socket.SOCK_RAW, proto)
    print("ready")
    types = []
    def take(k):
        data = k.recv(2000)
        off = (data[0] & 15) * 4 if fam(addr) == socket.AF_INET else 0
        types.append(str(data[off]) if proto in (1, 58) else "-")
    until_stopped(stop, s, take)
    print("received", len(types), "types", ",".join(types))
elif mode == "send-raw":       # proto dst count: raw packets of an IP protocol from an ordinary raw socket
    proto, dst, count = int(args[0]), args[1], int(args[2])
    s = socket.socket(fam(dst), socket.SOCK_RAW, proto)
    send_count(lambda i: s.sendto(b"raw payload", (dst, 0)), count)
elif mode == "ping":           # dst count wait: ICMP(v6) echo over a ping socket; prints replies
    dst, count, wait = args[0], int(args[1]), float(args[2])
    v6 = ":" in dst
    s = socket.socket(fam(dst), socket.SOCK_DGRAM, socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
    s.settimeout(wait)
    replies = 0
    for i in range(count):
        hdr = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, 0, i)
        try:
            s.sendto(hdr + b"podgate", (dst, 0)); s.recv(200); replies += 1
        except socket.timeout: pass
        except PermissionError: print("EPERM"); break
    print("replies", replies)
elif mode == "udp-error":      # dst port: a connected UDP socket to a closed port; the ICMP error must come back
    dst, port = args[0], int(args[1])
    s = socket.socket(fam(dst), socket.SOCK_DGRAM); s.settimeout(2)
    s.connect((dst, port)); s.send(b"anyone?")
    try: s.recv(100); print("answered")
    except ConnectionRefusedError: print("refused")
    except socket.timeout: print("timeout")
elif mode == "raw-syn":        # src dst dport count: raw TCP SYNs with a chosen source (v4 or v6)
    src, dst, dport, count = args[0], args[1], int(args[2]), int(args[3])
    s = raw_sender(dst)
    def syn(i):
        tcp = struct.pack("!HHIIBBHHH", 40000 + i, dport, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
        if ":" in src:
            s6, d6 = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
            pseudo = s6 + d6 + struct.pack("!IxxxB", len(tcp), 6)
            tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
            return struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + s6 + d6 + tcp
        s4, d4 = socket.inet_aton(src), socket.inet_aton(dst)
        pseudo = s4 + d4 + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
        return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, s4, d4) + tcp
    for i in range(count):
        try: s.sendto(syn(i), (dst, 0)); print("sent")
        except PermissionError: print("EPERM")
        except OSError as e: print("oserror", e.errno)
elif mode == "sniff-any":      # stopfile: prints "PROTO SRC" for every IPv4/IPv6 packet arriving on any interface
    stop = args[0]
    t = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0003))
    print("ready")
    def show(k):
        data, meta = k.recvfrom(2000)
        if meta[2] == socket.PACKET_OUTGOING: return
        if data[0] >> 4 == 4: print(data[9], socket.inet_ntoa(data[12:16]))
        elif data[0] >> 4 == 6: print(data[6], socket.inet_ntop(socket.AF_INET6, data[8:24]))
    until_stopped(stop, t, show)
    print("done")
elif mode == "connect":        # dst port timeout
    dst, port, timeout = args[0], int(args[1]), float(args[2])
    s = socket.socket(fam(dst), socket.SOCK_STREAM); s.settimeout(timeout)
    try: s.connect((dst, port)); print("connected")
    except PermissionError: print("EPERM")
    except socket.timeout: print("timeout")
    except ConnectionRefusedError: print("refused")
    except OSError as e: print("oserror", e.errno)
elif mode == "accept-loop":    # addr port: accepts forever
    addr, port = args[0], int(args[1])
    s = socket.socket(fam(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(64)
    print("ready")
    while True:
        c, _ = s.accept(); c.close()
"""#
}
