import type * as grpc from "@grpc/grpc-js";
import { bundledMessages, bundlesAt } from "./bundle-frames";
import { BundleWriter } from "./bundle-writer";
import { majorOf } from "./event-wire";
import { rpcNameOf, serviceNameOf } from "./method-binding";

// The server side of bundles (bundle-frames.ts) for a family's data stream (Read, Process, Write)
// at v2: a bundle Core sent is read as the messages it carries, each decoded by the method's own
// codec and handed to the handler as if it had come alone; and once the stream's start message
// says `accepts_bundles`, the handler's writes of one event-loop turn go out as one bundle
// (bundle-writer.ts). The handlers themselves never see a bundle.

const DATA_STREAMS = new Set(["Read", "Process", "Write"]);

/** A request that was a bundle: the requests it carried, decoded. */
class BundledRequests {
  constructor(readonly requests: unknown[]) {}
}

/** A response already encoded (a bundle or one held message): written as these bytes. */
class EncodedResponse {
  constructor(readonly bytes: Buffer) {}
}

/** Whether `request` is a start message that says Core reads bundles on this stream. */
function acceptsBundles(request: unknown): boolean {
  const member = (
    request as { request?: { $case?: string; value?: { acceptsBundles?: boolean } } } | undefined
  )?.request;
  return member?.$case === "start" && member.value?.acceptsBundles === true;
}

/**
 * `call`, changed in place so that its handler reads bundles as their requests and its writes are
 * bundled per turn once the start message allows it. Ending or failing the call first sends what
 * is held; a cancelled call drops it.
 */
function bundlingCall(
  call: grpc.ServerDuplexStream<unknown, unknown>,
  serialize: (value: unknown) => Buffer,
): grpc.ServerDuplexStream<unknown, unknown> {
  const write = call.write.bind(call) as (message: unknown, ...rest: unknown[]) => boolean;
  const end = call.end.bind(call) as (...args: unknown[]) => unknown;
  const emit = call.emit.bind(call) as (event: string | symbol, ...args: unknown[]) => boolean;
  const writer = new BundleWriter((frame) => write(new EncodedResponse(frame)));
  const received = (request: unknown) => {
    if (!writer.bundling && acceptsBundles(request)) writer.startBundling();
    return emit("data", request);
  };
  Object.assign(call, {
    write(message: unknown, ...rest: unknown[]): boolean {
      if (!writer.bundling || rest.length > 0) {
        writer.flush();
        return write(message, ...rest);
      }
      writer.write(serialize(message));
      return !call.writableNeedDrain;
    },
    end(...args: unknown[]) {
      writer.flush();
      return end(...args);
    },
    emit(event: string | symbol, ...args: unknown[]): boolean {
      const [first] = args;
      if (event === "data") {
        if (!(first instanceof BundledRequests)) return received(first);
        for (const request of first.requests) received(request);
        return true;
      }
      if (event === "error") writer.flush();
      if (event === "cancelled") writer.drop();
      return emit(event, ...args);
    },
  });
  return call;
}

/**
 * `definition` and `implementation` with bundles on the data stream of a Flow family contract at
 * v2 (every other method, and every v1 service, as they are).
 */
export function withStreamBundles(
  definition: grpc.ServiceDefinition,
  implementation: grpc.UntypedServiceImplementation,
): { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation } {
  if (!serviceNameOf(definition).startsWith("flow.microservices.") || !bundlesAt(majorOf(definition)))
    return { definition, implementation };
  const methods: Record<string, grpc.MethodDefinition<unknown, unknown>> = { ...definition };
  const handlers: grpc.UntypedServiceImplementation = { ...implementation };
  for (const [key, method] of Object.entries(definition)) {
    const handler = implementation[key] as grpc.handleBidiStreamingCall<unknown, unknown> | undefined;
    if (!handler || !method.requestStream || !method.responseStream || !DATA_STREAMS.has(rpcNameOf(method)))
      continue;
    methods[key] = {
      ...method,
      requestDeserialize: (frame: Buffer) => {
        const carried = bundledMessages(frame);
        return carried
          ? new BundledRequests(carried.map((message) => method.requestDeserialize(message)))
          : method.requestDeserialize(frame);
      },
      responseSerialize: (value: unknown) =>
        value instanceof EncodedResponse ? value.bytes : method.responseSerialize(value),
    };
    handlers[key] = ((call: grpc.ServerDuplexStream<unknown, unknown>) =>
      handler(bundlingCall(call, method.responseSerialize))) as grpc.UntypedHandleCall;
  }
  return { definition: methods as grpc.ServiceDefinition, implementation: handlers };
}
