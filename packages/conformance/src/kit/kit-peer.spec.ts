import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import * as grpc from "@grpc/grpc-js";
import { CloudEventBatch } from "../gen/event/v2/event";
import { eventMajor } from "./event-majors";
import { KIT_CHANNEL_OPTIONS } from "./family-clients";
import { KitPeer, refText } from "./kit-peer";

const [event] = eventMajor(2).sampleEvents([{ data: { n: 1 } }], "kit-peer");

/** A IngestRequest frame with its batch written as given: a service may encode it its own way. */
function frameOf(stream: string, handle: bigint, batch: Uint8Array): Buffer {
  const writer = new BinaryWriter();
  writer.tag(2, WireType.LengthDelimited).bytes(batch);
  writer
    .tag(1, WireType.LengthDelimited)
    .fork()
    .tag(1, WireType.LengthDelimited)
    .string(stream)
    .tag(2, WireType.Varint)
    .uint64(handle)
    .join();
  return Buffer.from(writer.finish());
}

it("records each batch pushed to it as its very bytes, under its ref, and each Ingest call's end", async () => {
  let wakes = 0;
  const peer = await KitPeer.start(2, () => {
    wakes += 1;
  });
  const client = new grpc.Client(peer.address, grpc.credentials.createInsecure(), KIT_CHANNEL_OPTIONS);
  try {
    const batch = CloudEventBatch.encode({ events: [event as never] }).finish();
    // The same events with a field the contract does not know after them: what is measured is the
    // batch's bytes as the service wrote them, not a decoding of them.
    const longer = Buffer.concat([batch, Buffer.from([0xc2, 0x3e, 0x01, 0x78])]);
    const summary = await new Promise<Buffer>((resolve, reject) => {
      const call = client.makeClientStreamRequest<Buffer, Buffer>(
        peer.ingestMethod,
        (frame) => frame,
        (frame) => frame,
        (error, answer) => (error ? reject(error) : resolve(answer as Buffer)),
      );
      call.write(frameOf("s", 1n, batch));
      call.write(frameOf("s", 2n, longer));
      call.end();
    });
    expect([...summary]).toEqual([0x08, 0x02]);
    expect(peer.ingestMethod).toBe("/flow.microservices.consumer_service.v2.ConsumerService/Ingest");
    expect(
      peer.pushed.map((pushed) => [refText(pushed.ref), pushed.bytes.length, pushed.events.length]),
    ).toEqual([
      ["s/1", batch.length, 1],
      ["s/2", longer.length, 1],
    ]);
    expect(peer.find({ stream: "s", handle: 2n })?.call).toBe(0);
    await peer.until(() => peer.allCallsEnded, 10_000);
    expect(peer.calls).toEqual([{ ended: true, batches: 2 }]);
    expect(wakes).toBeGreaterThanOrEqual(3);
  } finally {
    client.close();
    peer.close();
  }
});

it("names itself as a Peer with the limits it is given", async () => {
  const peer = await KitPeer.start(2);
  try {
    expect(peer.peer("downstream", { maxBatchSize: 5, maxBatchBytes: 1024 })).toEqual({
      stageId: "downstream",
      address: peer.address,
      maxBatchSize: 5,
      maxBatchBytes: 1024n,
      ingestMethod: peer.ingestMethod,
      bundles: false,
    });
  } finally {
    peer.close();
  }
});
