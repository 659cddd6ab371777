import { PermanentError } from "@flow/sdk";

/**
 * The generator's checkpoint: the next sequence number to generate, as decimal ASCII. Text rather
 * than a binary integer so that the stored position reads the same in `flow checkpoints list`, in
 * a database browser and to a service written in another language.
 */
export function encodeNextSequence(next: bigint): { position: Buffer; description: string } {
  return { position: Buffer.from(next.toString(), "ascii"), description: `next sequence ${next}` };
}

/**
 * The sequence to resume from; 1 when there is no checkpoint. Throws on a position it did not
 * write (permanent: a restart would be handed the same one).
 */
export function decodeNextSequence(position: Buffer | undefined): bigint {
  if (position === undefined || position.length === 0) return 1n;
  const text = position.toString("ascii");
  if (!/^[1-9]\d{0,19}$/.test(text)) {
    throw new PermanentError(
      `checkpoint "${text.slice(0, 40)}" is not a generator position (a sequence number >= 1)`,
    );
  }
  return BigInt(text);
}
