"""The code generated from the vendored contracts (by generate.py into gen/), checked to be current.

Importing this module puts gen/python on sys.path, so the generated modules import each other by
the contracts' own paths (`from event.v1 import event_pb2`), and refuses to go on, with one line
saying how to fix it, when gen/ is missing or was generated from other protos than proto/ holds.
"""

import importlib.util
import os
import sys

from .proto_digest import stamp_matches

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(HERE, "gen")
PROTO = os.path.join(HERE, "proto")


def _ensure_current():
    reason = stamp_matches(GEN, PROTO)
    if reason:
        print(
            f"flow_service: {reason}: run {sys.executable} {os.path.join(HERE, 'generate.py')}",
            file=sys.stderr,
            flush=True,
        )
        sys.exit(1)


def _load_by_path(relative, name):
    """A message module of gRPC's own protocols, which cannot be imported as grpc.* (see generate.py)."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(GEN, "third_party_python", relative))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_ensure_current()
sys.path.insert(0, os.path.join(GEN, "python"))

from checkpoint.v1 import checkpoint_pb2  # noqa: E402
from component.v1 import component_pb2  # noqa: E402
from consumer_service.v1 import consumer_pb2, consumer_pb2_grpc  # noqa: E402
from event.v1 import event_pb2  # noqa: E402
from processor_service.v1 import processor_pb2, processor_pb2_grpc  # noqa: E402
from source_service.v1 import source_pb2, source_pb2_grpc  # noqa: E402

health_pb2 = _load_by_path("grpc/health/v1/health_pb2.py", "flow_service.gen.health_pb2")
reflection_v1_pb2 = _load_by_path("grpc/reflection/v1/reflection_pb2.py", "flow_service.gen.reflection_v1_pb2")
reflection_v1alpha_pb2 = _load_by_path(
    "grpc/reflection/v1alpha/reflection_pb2.py", "flow_service.gen.reflection_v1alpha_pb2"
)

__all__ = [
    "checkpoint_pb2",
    "component_pb2",
    "consumer_pb2",
    "consumer_pb2_grpc",
    "event_pb2",
    "processor_pb2",
    "processor_pb2_grpc",
    "source_pb2",
    "source_pb2_grpc",
    "health_pb2",
    "reflection_v1_pb2",
    "reflection_v1alpha_pb2",
]
