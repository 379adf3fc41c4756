"""``python -m infra.local.mock_aws PORT``: moto's SQS and S3 in memory, on 127.0.0.1.

``python -m moto.server`` serves every service moto mocks and works out which one each
request is for from its headers and body, looking on disk for each of moto's modules as it
goes: under a burst of uploads that guess took half of the server's CPU time
(bench/pipeline.py). The runtime needs SQS (and S3 where it is given a URL for both), so
this serves those two applications, told apart by the header every SQS request carries, and
without a log line per request.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from moto.moto_server.werkzeug_app import create_backend_app
from werkzeug.serving import WSGIRequestHandler, run_simple

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class _Unlogged(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # errors are still logged


def sqs_or_s3(sqs: WSGIApplication, s3: WSGIApplication) -> WSGIApplication:
    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[Any]:
        # botocore speaks SQS's JSON protocol, whose every request names its action here.
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("AmazonSQS."):
            return sqs(environ, start_response)
        return s3(environ, start_response)

    return application


def main(argv: list[str]) -> None:
    (port,) = argv
    run_simple("127.0.0.1", int(port),
               sqs_or_s3(create_backend_app("sqs"), create_backend_app("s3")),
               threaded=True, request_handler=_Unlogged)


if __name__ == "__main__":
    main(sys.argv[1:])
