"""Generates the Python code of the contracts into gen/ (not committed).

    /usr/bin/python3 examples/python/generate.py [--force]

It does nothing when gen/ was generated from the contracts proto/ holds now (--force: always).

Messages come from Debian's protoc (protobuf-compiler 3.21, the version of the python3-protobuf
runtime); the gRPC stubs from python3-grpc-tools' plugin (its bundled protoc is 3.5, too old to
write message code for a 3.21 runtime, but its stubs only import the message modules). Inputs:

- proto/: the vendored family contracts (exact pinned copies, see proto-pins.yaml);
- grpc/health/v1/health.proto and grpc/reflection/v1{,alpha}/reflection.proto, gRPC's own
  protocols, which Debian's grpcio does not implement for us (no grpcio-health-checking or
  grpcio-reflection package). They are kept as gRPC publishes them in third_party/ (see
  third_party_protos below) and compiled into gen/third_party/.

gen/STAMP records a digest of proto/; the services refuse to start when it does not match (see
flow_service/contracts.py), so a re-vendored contract is never served with stale code.
"""

import os
import re
import shutil
import subprocess
import sys

from flow_service.proto_digest import contract_files, contracts_digest, stamp_matches

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "proto")
GEN = os.path.join(HERE, "gen")
REPOSITORY = os.path.dirname(os.path.dirname(HERE))

# gRPC's own protocol files, kept as gRPC publishes them (with their license headers) in
# third_party/ beside the services, so a service in its own repository has them too; the path under
# third_party/ is the canonical one reflection clients see.
THIRD_PARTY = os.path.join(HERE, "third_party")
THIRD_PARTY_FILES = [
    "grpc/health/v1/health.proto",
    "grpc/reflection/v1/reflection.proto",
    "grpc/reflection/v1alpha/reflection.proto",
]


class GenerateError(Exception):
    pass


def third_party_protos():
    """(canonical path, text) of gRPC's protocol files, from third_party/."""
    protos = []
    for canonical in THIRD_PARTY_FILES:
        path = os.path.join(THIRD_PARTY, canonical)
        if not os.path.isfile(path):
            raise GenerateError(f"{path} not found: restore it from gRPC's repository (grpc/grpc, src/proto)")
        with open(path, encoding="utf-8") as source:
            protos.append((canonical, source.read()))
    return protos


def run(argv, what, fix):
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise GenerateError(f"{argv[0]} not found: {fix}") from None
    if done.returncode != 0:
        raise GenerateError(f"{what} failed:\n{done.stderr.strip()}")


def check_protoc():
    try:
        version = subprocess.run(["protoc", "--version"], capture_output=True, text=True, check=False).stdout
    except FileNotFoundError:
        raise GenerateError("protoc not found: apt-get install protobuf-compiler") from None
    match = re.search(r"(\d+)\.(\d+)", version)
    if not match or (int(match.group(1)), int(match.group(2))) < (3, 19):
        raise GenerateError(f"protoc {version.strip()} is too old for python3-protobuf 4: need 3.19 or newer")


def generate():
    contracts = contract_files(PROTO)
    if not contracts:
        raise GenerateError(f"no .proto files in {PROTO}: vendor them with `flow proto vendor examples/python`")
    third_party = third_party_protos()
    check_protoc()
    # Built beside gen/ and swapped in at the end, so a service never sees a half-written folder.
    building = f"{GEN}.building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    foreign = os.path.join(building, "third_party")
    for name, text in third_party:
        os.makedirs(os.path.dirname(os.path.join(foreign, name)), exist_ok=True)
        with open(os.path.join(foreign, name), "w", encoding="utf-8") as out:
            out.write(text)
    messages = os.path.join(building, "python")
    os.makedirs(messages)
    run(
        ["protoc", f"-I{PROTO}", f"--python_out={messages}", *contracts],
        "protoc (contracts)",
        "apt-get install protobuf-compiler",
    )
    run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO}", f"--grpc_python_out={messages}"]
        + [name for name in contracts if "_service/" in name],
        "grpc_tools.protoc (service stubs)",
        "apt-get install python3-grpc-tools",
    )
    # gRPC's protocols are compiled apart: their Python package path would be grpc.*, which the
    # grpc library itself owns. flow_service/contracts.py loads them by file (messages only).
    foreign_out = os.path.join(building, "third_party_python")
    os.makedirs(foreign_out)
    run(
        ["protoc", f"-I{foreign}", f"--python_out={foreign_out}", *[name for name, _text in third_party]],
        "protoc (gRPC health and reflection)",
        "apt-get install protobuf-compiler",
    )
    with open(os.path.join(building, "STAMP"), "w", encoding="utf-8") as stamp:
        stamp.write(contracts_digest(PROTO) + "\n")
    retired = f"{GEN}.retired-{os.getpid()}"
    if os.path.exists(GEN):
        os.rename(GEN, retired)
    os.rename(building, GEN)
    shutil.rmtree(retired, ignore_errors=True)
    return contracts


def main():
    if "--force" not in sys.argv[1:] and stamp_matches(GEN, PROTO) is None:
        print(f"{os.path.relpath(GEN)} is current")
        return
    try:
        contracts = generate()
    except GenerateError as error:
        print(f"generate.py: {error}", file=sys.stderr)
        sys.exit(1)
    print(f"generated {len(contracts)} contract(s) and gRPC health and reflection into {os.path.relpath(GEN)}")


if __name__ == "__main__":
    main()
