#!/usr/bin/env python3
"""Writes a wrk Lua script that POSTs one Standard Webhooks-signed delivery, signed now.

    scripts/signed-wrk-script.py SIZE SECRET OUT.lua

The body is a `customer.created` event of about SIZE bytes: by default its `data` is one long
string; with SHAPE=nested it is a list of small objects of short keys and values, as real
providers' payloads are (`benches/verify.rs` measures the same shape). Signed once: a run must
stay inside the receiver's 5-minute timestamp tolerance, so scripts re-sign before each round.
"""
import base64
import hashlib
import hmac
import os
import sys
import time

size, secret, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
if os.environ.get("SHAPE", "string") == "nested":
    items, length, i = [], 0, 0
    while length < size:
        item = (f'{{"id":"li_{i:05}","object":"line_item","amount":{i * 100},"currency":"usd",'
                f'"description":"Seat license for workspace {i}","metadata":{{"k":"v","n":[1,2,3]}},'
                f'"period":{{"start":1700000000,"end":1702592000}}}}')
        items.append(item)
        length += len(item) + 1
        i += 1
    body = ('{"type":"customer.created","id":"evt_bench","data":{"object":"invoice","lines":['
            + ",".join(items) + "]}}")
else:
    head = '{"type":"customer.created","id":"evt_bench","data":"'
    body = head + "x" * max(0, size - len(head) - 2) + '"}'
ts, mid = str(int(time.time())), "msg_bench"
key = base64.b64decode(secret.removeprefix("whsec_"))
sig = base64.b64encode(hmac.new(key, f"{mid}.{ts}.{body}".encode(), hashlib.sha256).digest()).decode()
with open(out, "w") as f:
    f.write(f'''wrk.method = "POST"
wrk.body = [==[{body}]==]
wrk.headers["content-type"] = "application/json"
wrk.headers["svix-id"] = "{mid}"
wrk.headers["svix-timestamp"] = "{ts}"
wrk.headers["svix-signature"] = "v1,{sig}"
''')
