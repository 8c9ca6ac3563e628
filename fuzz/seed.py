#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz corpora from real servers: RDB files and DUMP payloads
of every type written by redis-server and by tern, and the bytes a primary sends a replica
after PSYNC (both payload framings). Usage: fuzz/seed.py <path to the tern binary>.
The corpus directories are fuzz/corpus/<target>/; file names are the content's SHA-1 as
libFuzzer names them."""
import hashlib, os, socket, subprocess, sys, tempfile, time
import redis

HERE = os.path.dirname(os.path.abspath(__file__))

def put(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def start(kind, tern, d, extra=()):
    port = free_port()
    if kind == "redis":
        args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", d,
                "--save", "", "--appendonly", "no"] + list(extra)
    else:
        args = [tern, "server", "--port", str(port), "--dir", d, "--save", ""] + list(extra)
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r = redis.Redis(port=port)
    for _ in range(100):
        try:
            r.ping(); break
        except Exception:
            time.sleep(0.1)
    return p, r, port

def populate(r):
    r.set("s:int", 12345); r.set("s:short", "hello"); r.set("s:long", "x" * 100)
    r.set("s:lzf", "abc" * 200); r.set("s:ttl", "v", px=10**9)
    r.rpush("l:small", *[str(i) for i in range(5)], "a", "b" * 70)
    r.rpush("l:big", *[str(i) * 3 for i in range(300)])
    r.hset("h:small", mapping={"a": "1", "b": "2", "c": "x" * 10})
    r.hset("h:big", mapping={f"f{i}": f"v{i}" for i in range(600)})
    r.sadd("set:int", *range(10)); r.sadd("set:big", *[f"m{i}" for i in range(600)])
    r.sadd("set:str", "a", "b", "c")
    r.zadd("z:small", {"a": 1, "b": 2.5, "c": -3}); r.zadd("z:big", {f"m{i}": i / 3 for i in range(200)})
    r.pfadd("hll:sparse", "a", "b", "c"); r.pfadd("hll:dense", *[f"e{i}" for i in range(5000)])
    r.setbit("bits", 1000, 1)

def psync_bytes(port, write):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"REPLCONF capa eof capa psync2\r\n")
    s.recv(100)
    s.sendall(b"PSYNC ? -1\r\n")
    s.settimeout(1.0)
    data = b""
    deadline = time.time() + 8
    acked = False
    while time.time() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            if data and not acked:
                s.sendall(b"REPLCONF ACK 0\r\n"); acked = True; write()
                continue
            if acked:
                break
            continue
        if not chunk:
            break
        data += chunk
    s.close()
    return data

def main():
    tern = sys.argv[1]
    for kind in ("redis", "tern"):
        for diskless in ("no", "yes"):
            d = tempfile.mkdtemp()
            extra = ["--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0"]
            p, r, port = start(kind, tern, d, extra)
            try:
                populate(r)
                if diskless == "no":
                    for k in r.keys("*"):
                        put("restore", b"\x00" + r.dump(k))
                    r.function_load("#!lua name=lib\nredis.register_function('f', function() return 1 end)")
                    r.save()
                    with open(os.path.join(d, "dump.rdb"), "rb") as f:
                        rdb = f.read()
                    put("rdb_load", b"\x00" + rdb)
                    put("rdb_load", b"\x04" + rdb)
                def write():
                    r.set("after", "1"); r.incr("n"); r.lpush("l:small", "z")
                    r.execute_command("MULTI"); r.hset("h:small", "d", "4"); r.execute_command("EXEC")
                    r.select(3) if False else None
                    r.expire("s:long", 100); r.delete("s:short")
                data = psync_bytes(port, write)
                put("replica_stream", data)
            finally:
                p.terminate(); p.wait()
    # RESP requests: prefix byte (limits), two bytes of split point, then the buffer.
    reqs = [b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
            b"PING\r\nSET k \"a\\x41\\n\" 'b\\'c'\r\n", b"*1\r\n$4\r\nPING\r\n*0\r\n*-1\r\n\r\n",
            b"*2\r\n$3\r\nGET\r\n$-1\r\n", b"*20\r\n" + b"$1\r\na\r\n" * 20,
            b"*1\r\n$99999999999\r\n", b"+OK\r\n-ERR x\r\n:1\r\n$3\r\nabc\r\n*2\r\n%1\r\n+a\r\n:1\r\n~1\r\n,1.5\r\n#t\r\n_\r\n>1\r\n=7\r\ntxt:abc\r\n"]
    for i, q in enumerate(reqs):
        put("resp_request", bytes([i & 7]) + (len(q) // 2).to_bytes(2, "little") + q)
    # Commands: arbitrary bytes are a fine start; a few lengths.
    import random
    rnd = random.Random(7)
    for n in (16, 64, 256, 1024):
        put("commands", bytes(rnd.randrange(256) for _ in range(n)))

main()
