"""A digest of the vendored contracts: what generate.py stamps into gen/ and the services check."""

import hashlib
import os


def contract_files(proto_dir):
    """The .proto files under proto_dir, as paths relative to it, sorted."""
    found = []
    for folder, _dirs, files in os.walk(proto_dir):
        found.extend(
            os.path.relpath(os.path.join(folder, name), proto_dir) for name in files if name.endswith(".proto")
        )
    return sorted(found)


def contracts_digest(proto_dir):
    digest = hashlib.sha256()
    for name in contract_files(proto_dir):
        with open(os.path.join(proto_dir, name), "rb") as source:
            digest.update(name.encode() + b"\0" + source.read() + b"\0")
    return digest.hexdigest()


def stamp_matches(gen_dir, proto_dir):
    """None when gen_dir/STAMP records proto_dir's digest, else why not."""
    try:
        with open(os.path.join(gen_dir, "STAMP"), encoding="utf-8") as stamp:
            recorded = stamp.read().strip()
    except FileNotFoundError:
        return "no generated code (gen/ is missing)"
    if recorded != contracts_digest(proto_dir):
        return "gen/ was generated from other contracts than proto/ holds"
    return None
