# Sourced by the benchmark scripts. `free_port [TAKEN...]` prints a free loopback TCP port,
# none of TAKEN (ports picked but not bound yet), below the kernel's ephemeral range
# (32768-60999 by default), where the benchmark's own outgoing connections cannot take it
# before the server binds.
free_port() {
    python3 - "$@" <<'PY'
import random, socket, sys
taken = set(sys.argv[1:])
for _ in range(200):
    p = random.randrange(20000, 32000)
    if str(p) in taken:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
else:
    raise SystemExit("no free port")
PY
}
