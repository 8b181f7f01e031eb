"""schemathesis hooks for scripts/api-fuzz.

A sync call speaks for the node whose credential it carries: a body naming any other node is refused
(403) before it is looked at. With QUANTIX_FUZZ_NODE_ID set, generated sync bodies name that node, so the
fuzzer reaches the checks and the catalogue behind the credential check.
"""

import os

import schemathesis

NODE_ID = os.environ.get("QUANTIX_FUZZ_NODE_ID")


@schemathesis.hook
def map_body(context, body):
    if NODE_ID and isinstance(body, dict) and "node_id" in body:
        body["node_id"] = NODE_ID
    return body
