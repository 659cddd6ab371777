import { PermanentError, type serviceLogger } from "@flow/sdk";
import type { FileChange } from "./file-change";
import type { ReplacedFilePolicy } from "./file-source-config";

/**
 * What to do when the file at the path is not the one the source was reading (replaced or
 * truncated since the checkpoint, or rotated while followed). `from-start`: say so in the log (a
 * warning, which Flow Core shows under the stage id) and go on with the new file from its first
 * byte. `fail`: throw a PermanentError (a restart would find the same file, so Core stops the run
 * with this message), naming the file, what changed, and the two ways out.
 */
export function handleReplacedFile(
  policy: ReplacedFilePolicy,
  change: FileChange,
  where: { path: string; offset: number; stageId: string },
  log: ReturnType<typeof serviceLogger>,
): void {
  const { path, offset, stageId } = where;
  if (policy === "fail") {
    throw new PermanentError(
      `${path} was ${change.kind} since it was read up to byte ${offset}: ${change.detail}. replacedFile is "fail"; to read the new file from its start, reset the stage's checkpoint (flow checkpoints reset <pipeline> ${stageId}) or set replacedFile: from-start`,
    );
  }
  log.warn(
    { stage: stageId, path, change: change.kind, checkpointOffset: offset },
    `${path} was ${change.kind} since it was read up to byte ${offset} (${change.detail}): reading the new file from its start`,
  );
}
