import { setImmediate as nextTurn } from "node:timers/promises";
import { bundledMessages, bundleFrame } from "@flow/sdk/internal";
import { BundledLinkStream, BundledResponses, bundlesAgreed, decodeBundled } from "./bundled-link-stream";
import { FakeLinkStream } from "./test-support/fake-link-stream";

// Core's side of bundles over a fake stream of frames: the link writes and reads one message at a
// time; the frames are what the service would see and send.

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
/** What a frame carried: its text, or the texts of a bundle. */
const carried = (frame: Uint8Array) => bundledMessages(frame)?.map(text) ?? text(frame);

function bundled() {
  const frames = new FakeLinkStream<Buffer, string | BundledResponses<string>>();
  const stream = new BundledLinkStream<string, string>(frames, (message) => Buffer.from(message));
  const read: string[] = [];
  stream.on("data", (message) => read.push(message));
  return { frames, stream, read };
}

describe("BundledLinkStream", () => {
  it("sends what the link writes in one turn as one bundle, and a lone message as itself", async () => {
    const { frames, stream } = bundled();
    stream.write("credit 1");
    stream.write("credit 2");
    expect(frames.written).toEqual([]);
    await nextTurn();
    stream.write("commit 3");
    await nextTurn();
    expect(frames.written.map(carried)).toEqual([["credit 1", "credit 2"], "commit 3"]);
  });

  it("hands the link each response a bundle carried, in order, among those that came alone", () => {
    const { frames, read } = bundled();
    frames.reply("ack 1");
    frames.reply(new BundledResponses(["ack 2", "ack 3"]));
    frames.reply("ack 4");
    expect(read).toEqual(["ack 1", "ack 2", "ack 3", "ack 4"]);
  });

  it("sends what is held before it ends the stream; a cancelled stream sends nothing more", async () => {
    const ending = bundled();
    ending.stream.write("batch 1");
    ending.stream.write("flush");
    ending.stream.end();
    expect([ending.frames.written.map(carried), ending.frames.ended]).toEqual([[["batch 1", "flush"]], true]);

    const cancelled = bundled();
    cancelled.stream.write("batch 1");
    cancelled.stream.cancel();
    await nextTurn();
    expect([cancelled.frames.written, cancelled.frames.cancelled]).toEqual([[], true]);
  });

  it("passes the stream's errors and its end on to the link", () => {
    const { frames, stream } = bundled();
    const seen: string[] = [];
    stream.on("error", (error) => seen.push(`error ${error.code}: ${error.details}`));
    stream.on("end", () => seen.push("end"));
    frames.fail("service gone");
    frames.finish();
    expect(seen).toEqual(["error 14: service gone", "end"]);
  });
});

describe("decodeBundled", () => {
  const decode = (message: Buffer) => `decoded ${message.toString()}`;

  it("decodes a frame that came alone, and each message of a bundle", () => {
    expect(decodeBundled(Buffer.from("ack"), decode)).toBe("decoded ack");
    expect(decodeBundled(bundleFrame([Buffer.from("a"), Buffer.from("b")]), decode)).toEqual(
      new BundledResponses(["decoded a", "decoded b"]),
    );
  });
});

describe("bundlesAgreed", () => {
  it("needs the run to allow them, a v2 stream and a service that said features.bundles", () => {
    expect(bundlesAgreed(true, 2, { bundles: true })).toBe(true);
    expect(bundlesAgreed(false, 2, { bundles: true })).toBe(false);
    expect(bundlesAgreed(true, 1, { bundles: true })).toBe(false);
    expect(bundlesAgreed(true, 2, { bundles: false })).toBe(false);
    expect(bundlesAgreed(true, 2, {})).toBe(false);
    expect(bundlesAgreed(true, 2, undefined)).toBe(false);
  });
});
