import * as grpc from "@grpc/grpc-js";

/** The RPC name of a method definition: `Describe` in `/pkg.v1.SourceService/Describe`. */
export function rpcNameOf(method: grpc.MethodDefinition<unknown, unknown>): string {
  return method.path.split("/")[2] ?? "";
}

/** The fully qualified name of a generated service definition, e.g. `pkg.v1.ProcessorService`. */
export function serviceNameOf(definition: grpc.ServiceDefinition): string {
  const first = Object.values(definition)[0];
  if (!first) throw new Error("service definition has no methods");
  return first.path.split("/")[1] ?? "";
}

/**
 * Handlers keyed the way grpc-js looks them up for `definition`.
 *
 * grpc-js finds a handler by the key of the service definition, and generators disagree on
 * those keys: ts-proto writes `describe`, proto-loader writes `Describe` (with `originalName`
 * `describe`). The SDK's family adapters name handlers after the RPC (`Describe`), so each
 * handler is found by its RPC name whatever the generator; a method without one answers
 * UNIMPLEMENTED naming it.
 */
export function bindImplementation(
  definition: grpc.ServiceDefinition,
  implementation: grpc.UntypedServiceImplementation,
): grpc.UntypedServiceImplementation {
  const bound: grpc.UntypedServiceImplementation = {};
  for (const [key, method] of Object.entries(definition)) {
    const rpcName = rpcNameOf(method);
    const handler = implementation[key] ?? implementation[rpcName] ?? implementation[lowerFirst(rpcName)];
    bound[key] = handler
      ? (handler.bind(implementation) as grpc.UntypedHandleCall)
      : unimplemented(method.path);
  }
  return bound;
}

function unimplemented(path: string): grpc.UntypedHandleCall {
  return ((call: grpc.ServerDuplexStream<unknown, unknown>, callback?: grpc.sendUnaryData<unknown>) => {
    const status = { code: grpc.status.UNIMPLEMENTED, details: `${path} is not implemented by this service` };
    // Unary and client-streaming handlers answer through the callback; streaming responses fail the call.
    if (callback) callback(status, null);
    else call.emit("error", status);
  }) as grpc.UntypedHandleCall;
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
