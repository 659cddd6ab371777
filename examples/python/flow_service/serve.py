"""Runs a Flow service the way Flow Core expects of a spawned process (docs/any-language.md):

1. signal handlers first: whoever reads the handshake may send SIGTERM at once;
2. a gRPC server with the family contract, grpc.health.v1 and server reflection, its receive
   limit announced in Describe (Limits.max_message_bytes);
3. when FLOW_SPAWNED=1, stdin as Core's lifeline: at its end, stop as on SIGTERM;
4. the handshake line on stdout, flushed (a pipe is block-buffered: without flush=True it only
   comes out when the process exits, and Core gives up waiting);
5. on SIGTERM (or SIGINT, or stdin's end): NOT_SERVING, every stream answers what it received and
   ends, the server stops, exit 0.
"""

import os
import signal
import sys
import threading
from concurrent import futures

import grpc

from .component import describe
from .contracts import consumer_pb2_grpc, processor_pb2_grpc, source_pb2_grpc
from .health import HealthService
from .lifecycle import Lifecycle
from .log import service_logger
from .reflection import ReflectionService

# The largest request the server accepts (gRPC Python's default is 4 MiB); Describe announces it.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
# How long streams get to finish on a stop; Core sends SIGKILL 5 s after SIGTERM.
GRACE_SECONDS = 4

FAMILY_SERVICES = {
    "source": ("flow.microservices.source_service.v1.SourceService", source_pb2_grpc.add_SourceServiceServicer_to_server),
    "processor": (
        "flow.microservices.processor_service.v1.ProcessorService",
        processor_pb2_grpc.add_ProcessorServiceServicer_to_server,
    ),
    "consumer": (
        "flow.microservices.consumer_service.v1.ConsumerService",
        consumer_pb2_grpc.add_ConsumerServiceServicer_to_server,
    ),
}


class StopRequest:
    """Why the service should stop, from a signal handler or the lifeline thread.

    A pipe, not a threading.Event: a signal handler runs in the main thread between two bytecodes,
    possibly while that thread holds the Event's lock inside wait(), and set() would then deadlock.
    os.write takes no lock.
    """

    def __init__(self):
        self._read, self._write = os.pipe()

    def request(self, reason):
        os.write(self._write, f"{reason}\n".encode())

    def wait(self):
        return os.read(self._read, 256).decode().split("\n")[0]


def _watch_lifeline(stop):
    """Core holds our stdin open while it runs; end of file means Core is gone (even by SIGKILL)."""
    while os.read(sys.stdin.fileno(), 65536):
        pass
    stop.request("stdin closed")


def _listen_address():
    host = os.environ.get("FLOW_SERVICE_HOST", "127.0.0.1")
    port = int(os.environ.get("FLOW_SERVICE_PORT", "0"))
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}", host


def serve(family, service_class):
    """Runs `service_class` (a ServiceBase and its family's servicer) until told to stop; exits 0."""
    info = service_class.INFO
    log = service_logger(info["name"])
    stop = StopRequest()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda received, _frame: stop.request(signal.Signals(received).name))

    service_name, add_servicer = FAMILY_SERVICES[family]
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="grpc"),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            # gRPC Python sets SO_REUSEPORT by default: a FLOW_SERVICE_PORT that another process
            # holds would be shared silently instead of failing.
            ("grpc.so_reuseport", 0),
        ],
    )
    lifecycle = Lifecycle()
    component = describe(info, family, MAX_MESSAGE_BYTES)
    add_servicer(service_class(component, lifecycle, log), server)
    health = HealthService([service_name])
    reflection = ReflectionService([service_name, "grpc.health.v1.Health"])
    server.add_generic_rpc_handlers((health.rpc_handler(), *reflection.rpc_handlers()))

    address, host = _listen_address()
    try:
        port = server.add_insecure_port(address)
    except RuntimeError:  # newer grpcio raises where 1.51 returns 0
        port = 0
    if port == 0:
        print(f"{info['name']}: cannot listen on {address} (is the port taken?)", file=sys.stderr, flush=True)
        sys.exit(1)
    server.start()
    if os.environ.get("FLOW_SPAWNED") == "1":
        threading.Thread(target=_watch_lifeline, args=(stop,), daemon=True, name="lifeline").start()

    shown = f"[{host}]" if ":" in host else host
    print(f"flow-handshake|1|{family}_service|1|tcp|{shown}:{port}|grpc", flush=True)

    reason = stop.wait()
    log.info("stopping: finishing in-flight work", extra={"fields": {"reason": reason}})
    health.set_serving(False)
    lifecycle.drain_all()
    health.close()
    server.stop(GRACE_SECONDS).wait()
    log.info("stopped")
    sys.exit(0)
