"""The stores files are tested on: a local folder, and a real S3 API (moto's server, run
on the loopback for the test session)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "socle-test",
    "AWS_SECRET_ACCESS_KEY": "socle-test-secret",
    "S3_REGION": "eu-west-3",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free loopback port: the HTTP API boto3 speaks to any bucket."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_client(endpoint: str) -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_CREDENTIALS["S3_REGION"],
        aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def new_bucket(endpoint: str) -> str:
    """A bucket of the test's own: tests never see each other's files."""
    name = f"socle-{uuid.uuid4().hex[:20]}"
    s3_client(endpoint).create_bucket(
        Bucket=name,
        CreateBucketConfiguration={"LocationConstraint": S3_CREDENTIALS["S3_REGION"]},
    )
    return name


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Any) -> dict[str, Any]:
    """The configuration of a store: a folder, or a bucket (with a prefix) on moto."""
    if request.param == "local":
        return {"STORAGE_PATH": str(tmp_path / "files")}
    endpoint = request.getfixturevalue("s3_endpoint")
    return {
        "STORAGE_URL": f"s3://{new_bucket(endpoint)}/socle",
        "S3_ENDPOINT_URL": endpoint,
        **S3_CREDENTIALS,
    }
