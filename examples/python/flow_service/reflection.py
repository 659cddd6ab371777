"""gRPC server reflection (grpc.reflection.v1, and v1alpha for older tools), so `buf curl`,
grpcurl and grpc_cli can describe and call the service with nothing but its address.

Debian packages no grpcio-reflection, so this answers the protocol from protobuf's default
descriptor pool, which holds exactly what protoc generated from the vendored protos (map entries
named <Field>Entry, as protoc-based tools require). A file is sent with its transitive imports.
"""

import grpc
from google.protobuf import descriptor_pool

from .contracts import reflection_v1_pb2, reflection_v1alpha_pb2

REFLECTION_SERVICES = {
    "grpc.reflection.v1.ServerReflection": reflection_v1_pb2,
    "grpc.reflection.v1alpha.ServerReflection": reflection_v1alpha_pb2,
}


class ReflectionService:
    def __init__(self, service_names, pool=None):
        self._pool = pool or descriptor_pool.Default()
        self._services = [*service_names, *REFLECTION_SERVICES]

    def _file_containing(self, symbol):
        try:
            return self._pool.FindFileContainingSymbol(symbol)
        except KeyError:
            # A method (pkg.Service.Method): its service's file.
            service, _, method = symbol.rpartition(".")
            found = self._pool.FindServiceByName(service)
            if method not in found.methods_by_name:
                raise
            return found.file

    def _with_imports(self, first):
        ordered, seen, pending = [], set(), [first]
        while pending:
            file = pending.pop(0)
            if file.name in seen:
                continue
            seen.add(file.name)
            ordered.append(file.serialized_pb)
            pending.extend(file.dependencies)
        return ordered

    def _answer(self, messages, request):
        response = messages.ServerReflectionResponse(valid_host=request.host, original_request=request)
        kind = request.WhichOneof("message_request")
        try:
            if kind == "list_services":
                response.list_services_response.service.extend(
                    messages.ServiceResponse(name=name) for name in self._services
                )
            elif kind == "file_by_filename":
                files = self._with_imports(self._pool.FindFileByName(request.file_by_filename))
                response.file_descriptor_response.file_descriptor_proto.extend(files)
            elif kind == "file_containing_symbol":
                files = self._with_imports(self._file_containing(request.file_containing_symbol))
                response.file_descriptor_response.file_descriptor_proto.extend(files)
            elif kind == "all_extension_numbers_of_type":
                self._pool.FindMessageTypeByName(request.all_extension_numbers_of_type)
                # The contracts are proto3 and declare no extensions.
                response.all_extension_numbers_response.base_type_name = request.all_extension_numbers_of_type
            else:  # file_containing_extension: there are none
                raise KeyError(kind)
        except KeyError:
            response.ClearField("message_response")
            response.error_response.error_code = grpc.StatusCode.NOT_FOUND.value[0]
            response.error_response.error_message = f"not found: {getattr(request, kind) if kind else 'empty request'}"
        return response

    def rpc_handlers(self):
        def handler_for(messages):
            def info(requests, _context):
                for request in requests:
                    yield self._answer(messages, request)

            return grpc.stream_stream_rpc_method_handler(
                info,
                messages.ServerReflectionRequest.FromString,
                messages.ServerReflectionResponse.SerializeToString,
            )

        return [
            grpc.method_handlers_generic_handler(name, {"ServerReflectionInfo": handler_for(messages)})
            for name, messages in REFLECTION_SERVICES.items()
        ]
