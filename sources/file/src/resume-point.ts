import type { FileHandle } from "node:fs/promises";
import { type FileChange, fileChange } from "./file-change";
import type { SavedPosition } from "./file-checkpoint";
import { FileFingerprints } from "./file-fingerprint";
import { LineChain } from "./line-chain";
import { isBlankLine, LineReader } from "./line-reader";

/** Where a stream starts reading, and the line chain at that byte. */
export interface ResumePoint {
  offset: number;
  chain: LineChain;
}

/**
 * Where to start in the open file `handle` given the saved position. A checkpoint whose file is
 * still there (same device and inode, unchanged up to the offset, not shorter) resumes at its
 * offset. A bare offset (written before checkpoints fingerprinted files) cannot tell another file
 * from the same one: it is trusted when it is within the file and starts a line, and the file is
 * read up to it once to rebuild the line chain. Otherwise `changed` decides (it throws to fail the
 * stream) and the file is read from its start.
 */
export async function resumePoint(
  handle: FileHandle,
  path: string,
  saved: SavedPosition,
  changed: (change: FileChange, offset: number) => void,
): Promise<ResumePoint> {
  const fromStart = (): ResumePoint => ({ offset: 0, chain: LineChain.start(path) });
  if (saved.kind === "none") return fromStart();
  if (saved.kind === "checkpoint") {
    const { offset, lines, file } = saved.checkpoint;
    const change = fileChange(offset, file, await new FileFingerprints(handle).at(offset));
    if (change === undefined) return { offset, chain: LineChain.fromHex(lines) };
    changed(change, offset);
    return fromStart();
  }
  const { offset } = saved;
  const { size } = await handle.stat();
  if (offset > size) {
    changed(
      { kind: "truncated", detail: `it is ${size} bytes, the checkpoint is at byte ${offset}` },
      offset,
    );
    return fromStart();
  }
  const rebuilt = await chainUpTo(handle, path, offset);
  if (rebuilt !== undefined) return { offset, chain: rebuilt };
  changed({ kind: "replaced", detail: `byte ${offset} is not where a line starts` }, offset);
  return fromStart();
}

/** The line chain after the lines that end at `offset`; undefined when a line runs across it. */
async function chainUpTo(handle: FileHandle, path: string, offset: number): Promise<LineChain | undefined> {
  const chain = LineChain.start(path);
  const reader = new LineReader(handle, 0, false);
  while (reader.position < offset) {
    const line = await reader.next();
    if (line === undefined || line.next > offset) return undefined;
    if (!isBlankLine(line)) chain.add(line.bytes, line.offset);
  }
  return chain;
}
