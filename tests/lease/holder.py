"""A replica in a child process: takes a lease, prints it, then obeys stdin.

    python tests/lease/holder.py TANIUM_URL SOURCE TTL
    → {"holder": ..., "token": ...}
    stdin "check"   → "held" or "lost: <message>"
    stdin "release" → "released", exits

The store is OCTI_TANIUM_LOCK_URL (unset: the file lock in OCTI_TANIUM_STATE_DIR).
"""

from __future__ import annotations

import json
import sys

from controller.lease import LeaseLost, Target, acquire


def main() -> None:
    url, source, ttl = sys.argv[1], sys.argv[2], float(sys.argv[3])
    lease = acquire(Target.of(url, source), timeout=10, ttl=ttl)
    print(json.dumps({"holder": lease.holder, "token": lease.token}), flush=True)
    for line in sys.stdin:
        if line.strip() == "check":
            try:
                lease.check()
                print("held", flush=True)
            except LeaseLost as exc:
                print(f"lost: {exc}", flush=True)
        elif line.strip() == "release":
            lease.release()
            print("released", flush=True)
            return


if __name__ == "__main__":
    main()
