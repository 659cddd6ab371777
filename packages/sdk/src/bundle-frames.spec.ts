import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { bundledMessages, bundleFrame, bundlesAt } from "./bundle-frames";
import { ReadRequest as ReadRequestV1 } from "./gen/source_service/v1/source";
import { ReadRequest, ReadResponse } from "./gen/source_service/v2/source";

const encoded = (request: ReadRequest) => ReadRequest.encode(request).finish();
const credit = (batches: number) =>
  ReadRequest.fromPartial({ request: { $case: "credit", value: { batches } } });
const commit = ReadRequest.fromPartial({
  request: {
    $case: "commit",
    value: { sequence: 2n ** 63n, checkpoint: { position: Buffer.from([0, 255]) } },
  },
});

describe("bundle frames (family contracts v2.2)", () => {
  it("writes a bundle the generated codecs read as the `bundle` member, carrying each message unchanged", () => {
    const frame = bundleFrame([encoded(credit(3)), encoded(commit), encoded(credit(1))]);
    const decoded = ReadRequest.decode(frame);
    expect(decoded.request?.$case).toBe("bundle");
    expect(decoded.request?.$case === "bundle" && decoded.request.value.requests).toEqual([
      credit(3),
      commit,
      credit(1),
    ]);
  });

  it("reads back the encoding of each message a bundle carries, byte for byte, in order", () => {
    const messages = [encoded(commit), encoded(credit(7))];
    const generated = ReadRequest.encode(
      ReadRequest.fromPartial({
        request: { $case: "bundle", value: { requests: [commit, credit(7)] } },
      }),
    ).finish();
    expect(bundledMessages(generated)?.map((message) => Buffer.from(message))).toEqual(
      messages.map((message) => Buffer.from(message)),
    );
    expect(Buffer.from(bundleFrame(messages))).toEqual(Buffer.from(generated));
  });

  it("says a message that is not a bundle is none, whatever its first field", () => {
    expect(bundledMessages(encoded(credit(2)))).toBeUndefined();
    expect(bundledMessages(new Uint8Array())).toBeUndefined();
    expect(
      bundledMessages(
        ReadResponse.encode({ response: { $case: "exhausted", value: { lastSequence: 4n } } }).finish(),
      ),
    ).toBeUndefined();
  });

  it("reads an empty bundle as no messages, and skips fields of a bundle it does not know", () => {
    expect(bundledMessages(bundleFrame([]))).toEqual([]);
    // A later minor's field 2 in the bundle (a varint) is skipped; the carried message still read.
    const writer = new BinaryWriter();
    writer.uint32((15 << 3) | WireType.LengthDelimited).fork();
    writer.uint32((1 << 3) | WireType.LengthDelimited).bytes(encoded(credit(5)));
    writer.uint32((2 << 3) | WireType.Varint).uint32(9);
    writer.join();
    expect(bundledMessages(writer.finish())?.map((message) => ReadRequest.decode(message))).toEqual([
      credit(5),
    ]);
  });

  it("refuses a bundle inside a bundle, which the contracts forbid", () => {
    const nested = bundleFrame([bundleFrame([encoded(credit(1))])]);
    expect(() => bundledMessages(nested)).toThrow("a bundle carries a bundle");
  });

  it("is a v2 feature: a v1 stream never carries bundles (its messages have no field 15)", () => {
    expect([bundlesAt(1), bundlesAt(2), bundlesAt(3)]).toEqual([false, true, true]);
    const v1 = ReadRequestV1.decode(bundleFrame([encoded(credit(1))]));
    expect(v1.request).toBeUndefined();
  });
});
