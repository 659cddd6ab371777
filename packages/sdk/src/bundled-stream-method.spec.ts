import { StreamReader } from "@flow/testing";
import * as grpc from "@grpc/grpc-js";
import { bundleFrame } from "./bundle-frames";
import { fromCloudEvent, toCloudEvent } from "./event-conversion";
import {
  ProcessorServiceService as ProcessorServiceV2,
  ProcessRequest,
  ProcessResponse,
} from "./gen/processor_service/v2/processor";
import { type ServeOptions, serveProcessor } from "./serve";
import { forwardingProcessor } from "./test-support/forwarding-processor";
import { servedPerTest } from "./test-support/served-per-test";
import { payloadNumbers, testEvents } from "./test-support/test-events";

// A processor served by the SDK, spoken to by a test "Core" that writes and reads raw frames: what
// it sends as a bundle the handler reads as the messages carried, and what the service answers in
// one turn comes back as a bundle only once the start message said Core reads them.

const QUIET: ServeOptions = { handshake: false, handleSignals: false };
const served = servedPerTest();

const encoded = (request: ProcessRequest): Buffer => Buffer.from(ProcessRequest.encode(request).finish());
const start = (acceptsBundles: boolean) =>
  encoded(
    ProcessRequest.fromPartial({ request: { $case: "start", value: { configJson: "{}", acceptsBundles } } }),
  );
const batch = (sequence: number) =>
  encoded(
    ProcessRequest.fromPartial({
      request: {
        $case: "batch",
        value: {
          sequence: BigInt(sequence),
          batch: { events: testEvents(sequence * 10, 2).map(toCloudEvent) },
        },
      },
    }),
  );

/** A Process stream whose requests go as the bytes given and whose answers come as raw frames. */
async function rawProcessStream() {
  served.service = await serveProcessor(forwardingProcessor().definition, {
    ...QUIET,
    service: ProcessorServiceV2,
  });
  const client = served.client(
    grpc.Client as unknown as new (
      a: string,
      c: grpc.ChannelCredentials,
    ) => grpc.Client,
  );
  const call = served.opened(
    client.makeBidiStreamRequest<Buffer, Buffer>(
      ProcessorServiceV2.process.path,
      (frame) => frame,
      (frame) => frame,
    ),
  );
  return { call, reader: new StreamReader<Buffer, Buffer>(call) };
}

/** Each answer frame read as [how many responses it carried, the first event number of each]. */
function carried(frame: Buffer): [number, number[]] {
  const response = ProcessResponse.decode(frame).response;
  const answers =
    response?.$case === "bundle" ? response.value.responses.map((one) => one.response) : [response];
  return [
    response?.$case === "bundle" ? answers.length : 0,
    answers.map((answer) =>
      answer?.$case === "batch"
        ? (payloadNumbers((answer.value.batch?.events ?? []).map(fromCloudEvent))[0] ?? -1)
        : -1,
    ),
  ];
}

async function answersFor(
  count: number,
  reader: StreamReader<Buffer, Buffer>,
): Promise<[number, number[]][]> {
  const frames: [number, number[]][] = [];
  let seen = 0;
  while (seen < count) {
    const frame = carried(await reader.next());
    frames.push(frame);
    seen += frame[1].length;
  }
  return frames;
}

describe("a family data stream at v2 with bundles", () => {
  it("reads the requests a bundle carries, in order, and answers what one turn produced as one bundle once the start accepts them", async () => {
    const { call, reader } = await rawProcessStream();
    call.write(start(true));
    call.write(bundleFrame([batch(1), batch(2), batch(3)]));
    const frames = await answersFor(3, reader);
    // Every batch answered, in order; and at least two answers shared a frame.
    expect(frames.flatMap(([, numbers]) => numbers)).toEqual([10, 20, 30]);
    expect(frames.some(([bundled]) => bundled > 1)).toBe(true);
    call.end();
  });

  it("never bundles its answers when the start message does not accept bundles, yet still reads Core's", async () => {
    const { call, reader } = await rawProcessStream();
    call.write(start(false));
    call.write(bundleFrame([batch(1), batch(2), batch(3)]));
    const frames = await answersFor(3, reader);
    expect(frames).toEqual([
      [0, [10]],
      [0, [20]],
      [0, [30]],
    ]);
    call.end();
  });

  it("refuses a bundle inside a bundle: the stream fails (grpc-js says it could not read the request), nothing is processed", async () => {
    const { call, reader } = await rawProcessStream();
    call.write(start(true));
    call.write(bundleFrame([bundleFrame([batch(1)])]));
    await expect(reader.next()).rejects.toMatchObject({
      code: grpc.status.INTERNAL,
      details: "Error deserializing request",
    });
  });
});
