"""Secrets never reach the logs: API keys (good, wrong or revoked) and the signatures of
presigned URLs. Every line Lightbox wrote — runtime, gateway, every function — is searched
after requests that carry them, and after failures that log the most. (The storage service's
own access log is not Lightbox's: like S3's server access logs, it records request URIs.)"""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.e2e.conftest import Stack
from tests.support import image_bytes

pytestmark = pytest.mark.e2e


def signatures(url: str) -> list[str]:
    return parse_qs(urlsplit(url).query).get("X-Amz-Signature", [])


def test_no_key_signature_or_credential_is_ever_written_to_the_logs(stack: Stack) -> None:
    owner = f"secretive-{uuid.uuid4().hex[:8]}"
    key = stack.create_key(owner)
    client = stack.api_client(key)
    data = image_bytes("JPEG") + uuid.uuid4().bytes
    ticket = client.presign("secret.jpg", "image/jpeg", data).json()
    put = requests.put(ticket["upload"]["url"], data=data, headers=ticket["upload"]["headers"],
                       timeout=30)
    assert put.status_code == 200
    asset = client.wait_until_settled(ticket["asset_id"])
    broken = client.presign("broken.jpg", "image/jpeg", b"\xff\xd8\xff" + bytes(500)).json()
    requests.put(broken["upload"]["url"], data=b"\xff\xd8\xff" + bytes(500),
                 headers=broken["upload"]["headers"], timeout=30)
    assert client.wait_until_settled(broken["asset_id"])["status"] == "failed"
    wrong = "lbk_" + uuid.uuid4().hex * 2
    assert requests.get(f"{stack.api}/v1/assets", timeout=30,
                        headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
    key_id = stack.key_command("list", "--owner", owner).splitlines()[-1].split()[0]
    stack.key_command("revoke", "--owner", owner, key_id)
    assert requests.get(f"{stack.api}/v1/assets", timeout=30,
                        headers={"Authorization": f"Bearer {key}"}).status_code == 401

    logs = stack.log_path.read_text(errors="replace")
    secrets = {
        "the owner's key": key, "a wrong key": wrong,
        **{f"a signature of {name}": signature for name, url in [
            ("the upload URL", ticket["upload"]["url"]),
            ("the original's URL", asset["original_url"]),
            *((f"thumbnail {t['size']}", t["url"]) for t in asset["thumbnails"]),
        ] for signature in signatures(url)},
    }
    assert len(secrets) >= 4
    leaked = [name for name, secret in secrets.items() if secret in logs]
    assert leaked == [], f"found in the logs: {leaked}"
    # The stack did log these requests: the search looked at the right place.
    assert re.search(r"asset [0-9a-f-]{36} failed", logs)
