#!/usr/bin/env python3
"""Verify a DSSE envelope with securesystemslib, an independent implementation.

usage: sslib_verify.py ENVELOPE.json PUBLIC_KEY.pem

The key is loaded with securesystemslib's defaults, so its keyid is securesystemslib's own; the
envelope's signature keyid must equal it (Hallmark writes exactly that keyid). Exit 0 when the
envelope verifies, 1 when it does not.
"""
import json
import sys

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import SSlibKey


def main() -> int:
    env_path, key_path = sys.argv[1:3]
    with open(env_path, "rb") as f:
        data = json.load(f)
    with open(key_path, "rb") as f:
        key = SSlibKey.from_crypto(load_pem_public_key(f.read()))
    try:
        envelope = Envelope.from_dict(dict(data))
        accepted = envelope.verify([key], 1)
    except (VerificationError, KeyError, ValueError) as e:
        print(f"securesystemslib: REJECTED: {e}")
        return 1
    print(f"securesystemslib: verified by {list(accepted)} ({key.keytype}/{key.scheme}), "
          f"payloadType {envelope.payload_type}, {len(envelope.payload)} payload bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
