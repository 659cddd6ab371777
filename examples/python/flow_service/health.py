"""grpc.health.v1.Health (Check, Watch, List), which Core and Kubernetes probes ask.

Debian packages no grpcio-health-checking, so this serves the protocol from the messages generated
from gRPC's health.proto (see generate.py). Status SERVING for "" (the whole server) and for the
family service; NOT_SERVING once the service drains; Watch streams end when the server stops.
"""

import threading

import grpc

from .contracts import health_pb2

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN


class HealthService:
    def __init__(self, service_names):
        self._changed = threading.Condition()
        self._statuses = {name: SERVING for name in ["", *service_names]}
        self._closed = False

    def set_serving(self, serving):
        with self._changed:
            for name in self._statuses:
                self._statuses[name] = SERVING if serving else NOT_SERVING
            self._changed.notify_all()

    def close(self):
        """Ends every Watch stream (after it sent the latest status), so the server can stop."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def check(self, request, context):
        with self._changed:
            status = self._statuses.get(request.service)
        if status is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service!r}")
        return health_pb2.HealthCheckResponse(status=status)

    def watch(self, request, context):
        def wake():
            with self._changed:
                self._changed.notify_all()

        context.add_callback(wake)
        sent = None
        while True:
            with self._changed:
                while (
                    context.is_active()
                    and not self._closed
                    and self._statuses.get(request.service, SERVICE_UNKNOWN) == sent
                ):
                    self._changed.wait()
                status = self._statuses.get(request.service, SERVICE_UNKNOWN)
                closed = self._closed
            if not context.is_active():
                return
            if status != sent:
                sent = status
                yield health_pb2.HealthCheckResponse(status=status)
            if closed:
                return

    def list(self, _request, _context):
        response = health_pb2.HealthListResponse()
        with self._changed:
            for name, status in self._statuses.items():
                response.statuses[name].status = status
        return response

    def rpc_handler(self):
        request = health_pb2.HealthCheckRequest
        response = health_pb2.HealthCheckResponse
        return grpc.method_handlers_generic_handler(
            "grpc.health.v1.Health",
            {
                "Check": grpc.unary_unary_rpc_method_handler(
                    self.check, request.FromString, response.SerializeToString
                ),
                "Watch": grpc.unary_stream_rpc_method_handler(
                    self.watch, request.FromString, response.SerializeToString
                ),
                "List": grpc.unary_unary_rpc_method_handler(
                    self.list,
                    health_pb2.HealthListRequest.FromString,
                    health_pb2.HealthListResponse.SerializeToString,
                ),
            },
        )
