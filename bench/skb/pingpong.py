# pingpong.py SRV_CPU CLI_CPU N - the loop bench/skb/pingpong.sh measures
import socket, sys, os, time
# server (target, printed pid) on CPU SRV, client (not a target) on CPU CLI
SRV, CLI, N = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1)
addr = l.getsockname()
r, w = os.pipe()
cpid = os.fork()
if cpid == 0:
    os.sched_setaffinity(0, {CLI})
    os.read(r, 1)
    c = socket.create_connection(addr); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    req = b'GET /x HTTP/1.1\r\nHost: a\r\n\r\n'
    t = time.time()
    for i in range(N):
        c.send(req); c.recv(4096)
    print((time.time() - t) / N * 1e6, 'us/iter', flush=True)
    os._exit(0)
os.sched_setaffinity(0, {SRV})
print(os.getpid(), flush=True)
sys.stdin.readline()
os.write(w, b'x')
s, _ = l.accept(); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
resp = b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'
while True:
    d = s.recv(4096)
    if not d: break
    s.send(resp)
os.waitpid(cpid, 0)
