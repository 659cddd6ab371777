import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type * as grpc from "@grpc/grpc-js";
import { majorOf } from "./event-wire";
import { PeerRef } from "./gen/peer/v1/peer";
import { rpcNameOf } from "./method-binding";

/**
 * Encoded-batch mode for processors that never read events (routing, sampling or forwarding whole
 * batches): the Process method keeps each InputBatch's EventBatch as bytes instead of decoding it,
 * and writes the answer's EventBatch bytes as they are. Everything else on the stream (the start
 * message, failures) still goes through the generated codec. Field numbers are those of
 * processor_service v1, which v2 keeps: ProcessRequest.batch = 2 {sequence = 1, batch = 2, and at
 * v2.1 ref = 3}; ProcessResponse.batch = 1 {input_sequence = 1, batch = 2, dead_letters = 3,
 * failure = 4}. An input with `ref` (the direct data path) has no batch here: the processor takes
 * its bytes from what was pushed to Ingest.
 */
export interface EncodedInput {
  request: { $case: "encoded"; value: { sequence: bigint; batch: Uint8Array; ref?: PeerRef } };
}

export interface EncodedAnswer {
  encoded: { inputSequence: bigint; batch: Uint8Array };
}

function isEncodedAnswer(value: unknown): value is EncodedAnswer {
  return typeof value === "object" && value !== null && "encoded" in value;
}

/** A copy of `definition` whose Process method carries batches as bytes (see above). */
export function withEncodedProcessBatches(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const copy: Record<string, grpc.MethodDefinition<unknown, unknown>> = { ...definition };
  const hasRef = majorOf(definition) >= 2;
  for (const [key, method] of Object.entries(definition)) {
    if (rpcNameOf(method) !== "Process") continue;
    copy[key] = {
      ...method,
      requestDeserialize: (frame: Buffer) =>
        decodeInputBatch(frame, hasRef) ?? method.requestDeserialize(frame),
      responseSerialize: (value: unknown) =>
        isEncodedAnswer(value) ? encodeProcessedBatch(value) : method.responseSerialize(value),
    };
  }
  return copy as grpc.ServiceDefinition;
}

/** The batch request as bytes, or undefined for any other request (decoded by the generated codec). */
function decodeInputBatch(frame: Buffer, hasRef: boolean): EncodedInput | undefined {
  const reader = new BinaryReader(frame);
  let found: EncodedInput | undefined;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 2 && wireType === WireType.LengthDelimited) {
      const inner = new BinaryReader(reader.bytes());
      const value: EncodedInput["request"]["value"] = { sequence: 0n, batch: new Uint8Array(0) };
      while (inner.pos < inner.len) {
        const [innerField, innerType] = inner.tag();
        if (innerField === 1 && innerType === WireType.Varint) value.sequence = BigInt(inner.uint64());
        else if (innerField === 2 && innerType === WireType.LengthDelimited) value.batch = inner.bytes();
        else if (hasRef && innerField === 3 && innerType === WireType.LengthDelimited)
          value.ref = PeerRef.decode(inner.bytes());
        else inner.skip(innerType, innerField);
      }
      found = { request: { $case: "encoded", value } };
    } else if (field === 1) {
      return undefined;
    } else {
      reader.skip(wireType, field);
    }
  }
  return found;
}

function encodeProcessedBatch(answer: EncodedAnswer): Buffer {
  const writer = new BinaryWriter();
  writer.tag(1, WireType.LengthDelimited).fork();
  writer.tag(1, WireType.Varint).uint64(answer.encoded.inputSequence);
  writer.tag(2, WireType.LengthDelimited).bytes(answer.encoded.batch);
  writer.join();
  return Buffer.from(writer.finish());
}
