/**
 * The file source's checkpoint: the byte offset just after the last line of a batch, as decimal
 * ASCII - readable as it is in `flow checkpoints list` and by a service in any language.
 */
export function encodeOffset(offset: number, path: string): { position: Buffer; description: string } {
  return { position: Buffer.from(String(offset), "ascii"), description: `byte ${offset} of ${path}` };
}

/** The offset to resume from; 0 when there is no checkpoint. Throws on a position it did not write. */
export function decodeOffset(position: Buffer | undefined): number {
  if (position === undefined || position.length === 0) return 0;
  const text = position.toString("ascii");
  if (!/^(0|[1-9]\d{0,15})$/.test(text)) {
    throw new Error(`checkpoint "${text.slice(0, 40)}" is not a file position (a byte offset)`);
  }
  return Number(text);
}
