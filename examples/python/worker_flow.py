"""The worker flow from another language, with nothing but the published contracts.

1. Exchange a worker API key for a token: POST /v1/auth/token (REST, described by /v1/openapi.json).
2. Open IngestService.StreamFaces with the token as `authorization: Bearer …` metadata.
3. Send a batch, replay it (acknowledged as a duplicate), send a malformed one (rejected by its
   ack; the stream stays open), then one more good batch.
4. Read the stored events back: GET /v1/events with a viewer key's token.
5. Open a stream with a malformed token: it ends UNAUTHENTICATED, and the reason is read from the
   google.rpc.Status trailer (grpcio-status), as any gRPC library's rich error model has it.

Configuration, as for the TypeScript worker:
    API_URL          the gateway, e.g. http://localhost:8080
    WORKER_API_KEY   a key with role "worker"
    VIEWER_API_KEY   a key with role "viewer" (to read the events back)
    TENANT_ID        the keys' tenant, e.g. t-default

Run `python generate.py` first. Exits non-zero, naming the step, if anything differs from the contract.
"""

import json
import math
import os
import pathlib
import random
import struct
import sys
import time
import urllib.request
import uuid
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "gen"))

import grpc  # noqa: E402
from facerec.ingest.v1 import ingest_pb2, ingest_pb2_grpc  # noqa: E402
from google.rpc import error_details_pb2  # noqa: E402
from grpc_status import rpc_status  # noqa: E402

EMBEDDING_DIM = 128


def rest(method: str, url: str, body: dict | None = None, token: str | None = None) -> dict:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def exchange(api_url: str, api_key: str, tenant_id: str) -> dict:
    return rest("POST", f"{api_url}/v1/auth/token", {"apiKey": api_key, "tenantId": tenant_id})


def ingest_target(endpoint: str) -> str:
    """`ingestEndpoint` is `grpc://host:port`; grpcio wants `host:port`."""
    parts = urlsplit(endpoint)
    return parts.netloc if parts.scheme else endpoint


def unit_embedding() -> bytes:
    values = [random.gauss(0, 1) for _ in range(EMBEDDING_DIM)]
    norm = math.sqrt(sum(v * v for v in values))
    return struct.pack(f"<{EMBEDDING_DIM}f", *(v / norm for v in values))


def observation(seq: int) -> ingest_pb2.FaceObservation:
    obs = ingest_pb2.FaceObservation(
        frame_seq=seq,
        bbox=ingest_pb2.BoundingBox(x=100, y=80, width=120, height=150),
        landmarks=[130, 120, 190, 120, 160, 150, 160, 190],
        det_score=0.97,
        embedding=unit_embedding(),
        embedding_dim=EMBEDDING_DIM,
        model="example/python-client",
        quality=0.8,
        track_id=seq,
    )
    obs.captured_at.FromMilliseconds(int(time.time() * 1000) - 1000)
    return obs


def batch(worker_id: str, observations: list) -> ingest_pb2.FaceBatch:
    return ingest_pb2.FaceBatch(
        batch_id=str(uuid.uuid4()),
        worker_id=worker_id,
        site_id="site-python",
        camera_id="cam-python",
        observations=observations,
    )


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}")


def main() -> None:
    api_url = os.environ["API_URL"].rstrip("/")
    tenant_id = os.environ["TENANT_ID"]
    worker_id = f"py-{uuid.uuid4().hex[:8]}"

    token = exchange(api_url, os.environ["WORKER_API_KEY"], tenant_id)
    check(token["tokenType"] == "Bearer" and token["expiresIn"] > 0, "exchanged the worker key for a Bearer token")

    first = batch(worker_id, [observation(1), observation(2)])
    malformed = batch(worker_id, [observation(3)])
    malformed.observations[0].det_score = 1.5
    last = batch(worker_id, [observation(4)])
    sent = [first, first, malformed, last]

    channel = grpc.insecure_channel(ingest_target(token["ingestEndpoint"]))
    stub = ingest_pb2_grpc.IngestServiceStub(channel)
    acks = list(stub.StreamFaces(iter(sent), metadata=[("authorization", f"Bearer {token['accessToken']}")]))

    check(len(acks) == len(sent), f"one ack per batch ({len(acks)} of {len(sent)})")
    check([a.batch_id for a in acks] == [b.batch_id for b in sent], "acks arrive in order, naming their batch")
    check(acks[0].accepted == 2 and not acks[0].duplicate and not acks[0].rejected, "the first batch is stored")
    check(acks[1].duplicate and acks[1].accepted == 0, "its replay is acknowledged as a duplicate, storing nothing")
    check(
        acks[2].rejected
        and acks[2].reason == "invalid_batch"
        and [v.field for v in acks[2].violations] == ["observations[0].det_score"],
        f"the malformed batch is rejected, naming the field: {acks[2].error}",
    )
    check(acks[3].accepted == 1 and not acks[3].rejected, "the stream goes on after a rejection")

    viewer = exchange(api_url, os.environ["VIEWER_API_KEY"], tenant_id)
    query = urlencode({"workerId": worker_id, "pageSize": 50})
    events = rest("GET", f"{api_url}/v1/events?{query}", token=viewer["accessToken"])["events"]
    check(len(events) == 3, f"the 3 stored observations read back over REST ({len(events)})")
    check({e["batchId"] for e in events} == {first.batch_id, last.batch_id}, "each event names its batch")

    try:
        list(stub.StreamFaces(iter([last]), metadata=[("authorization", "Bearer not.a.token")]))
        check(False, "a stream with a malformed token ends with an error")
    except grpc.RpcError as error:
        status = rpc_status.from_call(error)
        info = error_details_pb2.ErrorInfo()
        check(status is not None and status.details[0].Unpack(info), "the error carries a google.rpc.Status")
        check(
            error.code() == grpc.StatusCode.UNAUTHENTICATED and (info.reason, info.domain) == ("invalid_token", "facerec.dev"),
            f"a malformed token ends the stream UNAUTHENTICATED, ErrorInfo reason {info.reason}",
        )
    channel.close()
    print("worker flow: all steps as the contract says")


if __name__ == "__main__":
    main()
