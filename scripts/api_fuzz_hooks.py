"""schemathesis hooks for scripts/api-fuzz: steer some generated values to real data, so the fuzzer
gets past the lookups and reaches the code behind them.

- QUANTIX_FUZZ_NODE_ID: a sync call speaks for the node whose credential it carries, and a body naming
  any other node is refused (403) before it is looked at; with this set, sync bodies name that node.
- QUANTIX_FUZZ_IMAGE_IDS: ids of images the script uploaded; half of the generated image ids (path `{id}`
  of image routes, `iso_id` of a VM) are replaced by one of them. The choice is a function of the
  generated value, so hypothesis can replay and shrink a failure.
- A tus chunk (`PATCH /api/v1/uploads/{id}`) is raw bytes, `application/offset+octet-stream`, a media type
  schemathesis cannot serialise by itself: it gets random bytes.
"""

import os
import zlib

import schemathesis
from hypothesis import strategies as st

NODE_ID = os.environ.get("QUANTIX_FUZZ_NODE_ID")
IMAGE_IDS = [i for i in os.environ.get("QUANTIX_FUZZ_IMAGE_IDS", "").split(",") if i]
IMAGE_ROUTES = ("/api/v1/images/{id}", "/internal/v1/images/{id}")

schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=4096))


def existing_image(generated):
    n = zlib.crc32(str(generated).encode())
    if not IMAGE_IDS or n % 2:
        return generated
    return IMAGE_IDS[(n // 2) % len(IMAGE_IDS)]


@schemathesis.hook
def map_body(context, body):
    if isinstance(body, dict):
        if NODE_ID and "node_id" in body:
            body["node_id"] = NODE_ID
        if "iso_id" in body:
            body["iso_id"] = existing_image(body["iso_id"])
    return body


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    path = context.operation.path if context.operation is not None else ""
    # Negative cases may leave the parameters out altogether (None).
    if path.startswith(IMAGE_ROUTES) and isinstance(path_parameters, dict) and "id" in path_parameters:
        path_parameters["id"] = existing_image(path_parameters["id"])
    return path_parameters
