"""``python -m infra.aws.redrive -e dev|prod``: send back what a deployed stack's dead-letter
queues hold, once the cause of the failures is mended.

Bucket events go back to the ingest queue; failed assets whose thumbnail jobs were given up
are retried. The stack's admin function does it (credentials and region as for the AWS CLI).
Use this rather than the console's "start DLQ redrive": a job sent back as it was finds its
asset failed and does nothing.
"""

from __future__ import annotations

import argparse
import json
import sys

from infra.aws.keys import admin_function, invoke


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.aws.redrive",
                                     description="Send back what the dead-letter queues hold.")
    parser.add_argument("-e", "--environment", required=True, choices=["dev", "prod"])
    parser.add_argument("--limit", type=int, default=1000,
                        help="letters of each dead-letter queue per run (default 1000)")
    args = parser.parse_args(argv)
    answer = invoke(admin_function(f"lightbox-{args.environment}"),
                    {"command": "redrive", "limit": args.limit})
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
