import { bundleFrame } from "./bundle-frames";

/**
 * The most bytes of messages one bundle carries. A message this large or larger goes out alone
 * (after what is held), so a bundle is never larger than the largest message the stream would
 * carry without bundles, and bundles stay what they are for: many small messages (acks, credits,
 * small batches) in one.
 */
export const BUNDLE_BYTE_LIMIT = 256 * 1024;

/**
 * The writing side of one data stream with bundles (bundle-frames.ts): until the other side is
 * known to read them, every message goes out as it is written; once it is (`bundling`), messages
 * written in one event-loop turn are held and sent when the turn ends (setImmediate: after the
 * I/O callbacks of the turn, before the loop waits again), one alone as itself, several as one
 * bundle. Nothing waits for more messages than the turn produced, so no latency is added beyond
 * the turn's own work; a bundle holds at most BUNDLE_BYTE_LIMIT bytes. `flush` sends what is held at once: before the stream ends or fails, so
 * nothing written before that is lost or reordered behind it; `drop` forgets it (the stream is
 * gone).
 */
export class BundleWriter {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private scheduled: NodeJS.Immediate | undefined;
  private on = false;

  /** `send` writes one encoded message on the stream. */
  constructor(private readonly send: (frame: Buffer) => void) {}

  /** From now on, messages of one turn are bundled (the other side said it reads bundles). */
  startBundling(): void {
    this.on = true;
  }

  get bundling(): boolean {
    return this.on;
  }

  write(frame: Buffer): void {
    if (!this.on) {
      this.send(frame);
      return;
    }
    if (frame.length >= BUNDLE_BYTE_LIMIT) {
      this.flush();
      this.send(frame);
      return;
    }
    if (this.heldBytes + frame.length > BUNDLE_BYTE_LIMIT) this.flush();
    this.held.push(frame);
    this.heldBytes += frame.length;
    this.scheduled ??= setImmediate(() => this.flush());
  }

  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const held = this.held;
    if (held.length === 0) return;
    this.held = [];
    this.heldBytes = 0;
    this.send(held.length === 1 ? (held[0] as Buffer) : bundleFrame(held));
  }

  drop(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.held = [];
    this.heldBytes = 0;
  }
}
