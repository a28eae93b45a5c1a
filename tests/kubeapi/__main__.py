"""Run the fake kube-apiserver standalone: `python -m tests.kubeapi --port 0 --namespaces 5`."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

from .server import KubeApiServer


def main(argv: list[str] | None = None) -> int:
    """Start, seed, write an admin kubeconfig, print the URL and serve until signalled."""
    parser = argparse.ArgumentParser(prog="python -m tests.kubeapi", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--namespaces", type=int, default=0, help="seed ns-0001..ns-N")
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every request")
    parser.add_argument("--write-kubeconfig", metavar="PATH", help="admin kubeconfig to write")
    args = parser.parse_args(argv)

    started = time.monotonic()
    server = KubeApiServer(
        namespaces=args.namespaces, latency_ms=args.latency_ms, host=args.host, port=args.port
    )
    server.start()
    if args.write_kubeconfig:
        server.write_kubeconfig(args.write_kubeconfig)
    print(server.url, flush=True)
    print(
        f"fake kube-apiserver ready in {time.monotonic() - started:.2f}s "
        f"({args.namespaces} extra namespaces)",
        file=sys.stderr,
        flush=True,
    )

    done = threading.Event()

    def stop(signum: int, frame: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not done.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
