"""Run the fake TKE API by hand: ``python -m tests.tkeapi --port 0``.

It starts with one demo account and one demo cluster and prints what to put in
``REGCRED_TKE_ENDPOINT`` and in the "add a TKE account" form.
"""

from __future__ import annotations

import argparse
import threading

from tests.tkeapi.server import TkeApiServer, make_kubeconfig


def main() -> None:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m tests.tkeapi", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--secret-id", default="AKIDexampleexampleexampleexample")
    parser.add_argument("--secret-key", default="examplesecretkeyexamplesecretkey")
    parser.add_argument("--region", default="ap-guangzhou")
    parser.add_argument(
        "--apiserver",
        default="https://127.0.0.1:6443",
        help="server of the demo cluster's public kubeconfig (its private one is not enabled)",
    )
    args = parser.parse_args()

    server = TkeApiServer(port=args.port).start()
    server.add_account(args.secret_id, args.secret_key, regions=(args.region,))
    server.add_cluster(
        args.secret_id,
        args.region,
        kubeconfig_public=make_kubeconfig(
            cluster_id="cls-abc123", server=args.apiserver, token="demo-token"
        ),
    )
    print(f"REGCRED_TKE_ENDPOINT={server.url}")
    print(f"SecretId={args.secret_id} SecretKey={args.secret_key} region={args.region}")
    print("cluster cls-abc123: public endpoint enabled, private endpoint not enabled", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
