import type { DescMessage } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { CONTRACT_REGISTRY, generatedNameOf } from "./contract-descriptors";

// The kit writes every major's messages in v1's shape (stream-messages.ts), and a later minor adds
// fields to them (v2.1: ReadStart.peers, SourceBatch.event_count...). ts-proto's encoder expects
// every field set: it iterates `peers` and writes `event_count` unless it is 0, `undefined` too, and
// fails on both. So every message the kit encodes is first completed by the generated
// `fromPartial` of its type: a field it leaves out is encoded as the default, at any depth.

/** A generated contract module: its package, and its messages' functions by name. */
export type GeneratedModule = { readonly protobufPackage: string } & Readonly<Record<string, unknown>>;

/** ts-proto's functions of one message, as far as completing one needs them. */
interface MessageFunctions {
  fromPartial(object: unknown): unknown;
}

/**
 * `made` (fromPartial's copy of `given`) with the fields the contract does not know put back where
 * `given` has them: fromPartial drops ts-proto's `_unknownFields`, and the kit sends events with an
 * unknown field on purpose (a service must pass it on).
 */
function keepingUnknownFields(made: unknown, given: unknown): unknown {
  if (typeof made !== "object" || made === null || made instanceof Uint8Array) return made;
  if (typeof given !== "object" || given === null) return made;
  if (Array.isArray(made)) {
    made.forEach((item, index) => {
      keepingUnknownFields(item, (given as unknown[])[index]);
    });
    return made;
  }
  const target = made as Record<string, unknown>;
  const source = given as Record<string, unknown>;
  const unknown = source._unknownFields;
  if (typeof unknown === "object" && unknown !== null && Object.keys(unknown).length > 0)
    target._unknownFields = unknown;
  for (const key of Object.keys(target))
    if (key !== "_unknownFields") keepingUnknownFields(target[key], source[key]);
  return made;
}

/** `value` with every field of its message type it leaves out at its default; unknown fields kept. */
export function completeMessage(functions: MessageFunctions, value: unknown): unknown {
  return keepingUnknownFields(functions.fromPartial(value), value);
}

function functionsOf(module: GeneratedModule, type: DescMessage, rpc: string): MessageFunctions {
  const where = `${rpc} (${type.typeName})`;
  if (type.file.proto.package !== module.protobufPackage)
    throw new Error(
      `${where}: the message is of package ${type.file.proto.package}, not of the module given (${module.protobufPackage}); complete it with that package's generated module`,
    );
  const found = module[generatedNameOf(type)] as Partial<MessageFunctions> | undefined;
  if (typeof found?.fromPartial !== "function")
    throw new Error(`${where}: the generated module exports no ${generatedNameOf(type)}; regenerate src/gen`);
  return found as MessageFunctions;
}

/** The descriptor of the rpc at a gRPC path (`/flow.microservices.source_service.v2.SourceService/Read`). */
function rpcAt(path: string) {
  const [, service = "", method = ""] = /^\/([^/]+)\/([^/]+)$/.exec(path) ?? [];
  const found = CONTRACT_REGISTRY.getService(service)?.methods.find((candidate) => candidate.name === method);
  if (!found)
    throw new Error(
      `${path}: no such rpc in the contracts' descriptors (src/gen/contracts.binpb); regenerate them (pnpm generate) after vendoring a contract`,
    );
  return found;
}

/**
 * A generated service definition whose request and response serializers complete each message
 * (see above) before the generated encoder writes it: what the kit's clients and its own servers
 * are built from, so a message of an older minor's shape encodes on every major.
 */
export function completingService<D extends grpc.ServiceDefinition>(
  definition: D,
  module: GeneratedModule,
): D {
  const methods = Object.entries(definition).map(([name, method]) => {
    const rpc = rpcAt(method.path);
    const request = functionsOf(module, rpc.input, method.path);
    const response = functionsOf(module, rpc.output, method.path);
    return [
      name,
      {
        ...method,
        requestSerialize: (value: unknown) => method.requestSerialize(completeMessage(request, value)),
        responseSerialize: (value: unknown) => method.responseSerialize(completeMessage(response, value)),
      },
    ];
  });
  return Object.fromEntries(methods) as D;
}
