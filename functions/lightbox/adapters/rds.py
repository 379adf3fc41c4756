"""IAM sign-in to PostgreSQL on RDS or through an RDS Proxy.

The token is a SigV4-presigned ``connect`` request, signed here with botocore's own signer
rather than an RDS client: loading the RDS service model would cost every cold start of a
function in the VPC, for one signature.
"""

from __future__ import annotations

from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.session import Session
from psycopg.conninfo import conninfo_to_dict

from lightbox.errors import ConfigError

TOKEN_SECONDS = 900  # the longest RDS accepts


def iam_auth_token(session: Session, database_url: str) -> str:
    """The password for the URL's user at the URL's host, valid for 15 minutes."""
    settings = conninfo_to_dict(database_url)
    host, user = settings.get("host"), settings.get("user")
    if not host or not user:
        raise ConfigError("DATABASE_URL needs a host and a user for IAM authentication")
    credentials = session.get_credentials()
    region = session.get_config_variable("region")
    if credentials is None or not region:
        raise ConfigError("IAM authentication to the database needs AWS credentials and a region")
    request = AWSRequest(
        method="GET",
        url=f"https://{host}:{settings.get('port') or 5432}/",
        params={"Action": "connect", "DBUser": user},
    )
    SigV4QueryAuth(credentials, "rds-db", region, expires=TOKEN_SECONDS).add_auth(request)
    request.prepare()
    return str(request.url).removeprefix("https://")
