import { setImmediate as nextTurn } from "node:timers/promises";
import { bundledMessages } from "./bundle-frames";
import { BUNDLE_BYTE_LIMIT, BundleWriter } from "./bundle-writer";

/** A writer whose sends are kept, each as the messages it carried ("a", or ["a", "b"] for a bundle). */
function recorded() {
  const sent: (string | string[])[] = [];
  const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
  const writer = new BundleWriter((frame) => {
    const carried = bundledMessages(frame);
    sent.push(carried ? carried.map(text) : text(frame));
  });
  return { writer, sent };
}

const message = (text: string) => Buffer.from(text);

describe("BundleWriter", () => {
  it("sends every message as it is written until bundling starts", () => {
    const { writer, sent } = recorded();
    writer.write(message("a"));
    writer.write(message("b"));
    expect(sent).toEqual(["a", "b"]);
    expect(writer.bundling).toBe(false);
  });

  it("once bundling, sends the messages of one turn as one bundle when the turn ends, one alone as itself", async () => {
    const { writer, sent } = recorded();
    writer.startBundling();
    writer.write(message("a"));
    writer.write(message("b"));
    writer.write(message("c"));
    expect(sent).toEqual([]);
    await nextTurn();
    expect(sent).toEqual([["a", "b", "c"]]);
    writer.write(message("d"));
    await nextTurn();
    expect(sent).toEqual([["a", "b", "c"], "d"]);
  });

  it("flush sends what is held at once, and the turn's end then has nothing more to send", async () => {
    const { writer, sent } = recorded();
    writer.startBundling();
    writer.write(message("a"));
    writer.write(message("b"));
    writer.flush();
    expect(sent).toEqual([["a", "b"]]);
    await nextTurn();
    expect(sent).toEqual([["a", "b"]]);
  });

  it("drop forgets what is held: nothing is sent, not even when the turn ends", async () => {
    const { writer, sent } = recorded();
    writer.startBundling();
    writer.write(message("a"));
    writer.drop();
    await nextTurn();
    expect(sent).toEqual([]);
  });

  it("never lets a bundle grow past BUNDLE_BYTE_LIMIT, and sends a message that large alone, in order", async () => {
    const { writer, sent } = recorded();
    writer.startBundling();
    const half = "h".repeat(BUNDLE_BYTE_LIMIT / 2);
    const big = "B".repeat(BUNDLE_BYTE_LIMIT);
    writer.write(message("a"));
    writer.write(message(half));
    writer.write(message(half)); // a + half + half is past the limit: a and the first half go first
    writer.write(message(big));
    writer.write(message("y"));
    await nextTurn();
    expect(sent.map((frame) => (Array.isArray(frame) ? frame.map((m) => m.length) : frame.length))).toEqual([
      [1, half.length],
      half.length,
      big.length,
      1,
    ]);
  });
});
