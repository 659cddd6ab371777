import type { UserError } from "@flow/errors";
import type { Logger } from "pino";
import type { Pipeline } from "../config/pipeline-model";
import type { NegotiationProblem } from "../negotiation/negotiate";
import { changesAnything, describeChanges, type PipelineChanges, pipelineChanges } from "./pipeline-changes";
import type { RunStages } from "./run-stages";
import type { SourceDriver } from "./source-driver";
import { closeStageLinks, type StageLink } from "./stage-links";
import { StageRecord } from "./stage-record";
import type { RunServices } from "./stage-services";

/** What a reload did: applied, or refused with the reason (the running pipeline untouched). */
export interface ReloadResult {
  applied: boolean;
  changes: PipelineChanges;
  error?: Error;
}

/** The parts of a running pipeline a reload changes (the runner hands them over). */
export interface ReloadableRun {
  /** The pipeline, records and links: a reload replaces what changed. */
  readonly stages: RunStages;
  readonly services: RunServices;
  readonly sources: Pick<SourceDriver, "quiesce" | "remove" | "add" | "resume">;
  readonly logger: Logger;
  /** Builds and opens the links of these (new) processor and consumer records. */
  openLinks(records: StageRecord[]): StageLink[];
  /**
   * The stages changed, nothing is in flight: on the direct data path, every stream reopens so
   * each upstream is named its peers as they are now (DataPlaneRestart.reloaded).
   */
  restreamDirectPath(): void;
  /** The run has not ended. */
  running(): boolean;
}

/**
 * The reloads of a running pipeline: applied one at a time, in the order asked; refused while the
 * run is not running (starting, or stopping).
 */
export class PipelineReloads {
  private last: Promise<unknown> = Promise.resolve();

  constructor(private readonly run: ReloadableRun) {}

  apply(next: Pipeline, describeProblem?: (problem: NegotiationProblem) => UserError): Promise<ReloadResult> {
    const result = this.last.then(async (): Promise<ReloadResult> => {
      if (!this.run.running()) {
        return {
          applied: false,
          changes: pipelineChanges(this.run.stages.plan, next),
          error: new Error("the pipeline is not running (it is starting or stopping)"),
        };
      }
      return reloadPipeline(this.run, next, describeProblem);
    });
    this.last = result.catch(() => undefined);
    return result;
  }
}

/**
 * Applies a new version of the pipeline file to a running pipeline. The new and changed stages'
 * services are started and negotiated first, beside the running ones: any problem refuses the
 * reload and leaves the run as it was. Then the sources pause (no credits; what they still send
 * waits) until every batch downstream is answered and every checkpoint committed, so nothing is
 * in flight anywhere; the changed and removed stages' streams end and their services stop; the
 * new ones take their places; and the sources resume, the batches that waited going through the
 * new pipeline. Kept stages keep their services and streams throughout: a kept source is never
 * restarted, and every event is handled by either the old or the new stage, from a batch boundary.
 */
export async function reloadPipeline(
  run: ReloadableRun,
  next: Pipeline,
  describeProblem?: (problem: NegotiationProblem) => UserError,
): Promise<ReloadResult> {
  const { stages } = run;
  const changes = pipelineChanges(stages.plan, next);
  if (changes.refused) return { applied: false, changes, error: new Error(changes.refused) };
  if (!changesAnything(changes)) {
    stages.plan = next;
    return { applied: true, changes };
  }
  const starting = [...changes.replaced, ...changes.added];
  let prepared: Awaited<ReturnType<RunServices["prepare"]>>;
  try {
    prepared = await run.services.prepare(next, starting, describeProblem);
  } catch (error) {
    return { applied: false, changes, error: error as Error };
  }
  const leaving = [...changes.replaced, ...changes.removed];
  run.logger.info({ changes: describeChanges(changes) }, "reload: draining in-flight batches");
  await run.sources.quiesce();
  if (!run.running()) {
    await run.services.discard(prepared);
    return { applied: false, changes, error: new Error("the run ended before the reload could apply") };
  }

  const leavingRecords = leaving.flatMap((id) => {
    const record = stages.records.get(id);
    return record ? [record] : [];
  });
  await run.sources.remove(leavingRecords.filter((record) => record.source).map((record) => record.id));
  const leavingLinks = stages.links.filter((link) => leaving.includes(link.stage.id));
  await closeStageLinks(leavingLinks);
  const staying = stages.links.filter((link) => !leavingLinks.includes(link));
  await run.services.retire(leaving);

  run.services.install(prepared, next);
  for (const id of leaving) stages.records.delete(id);
  const arriving = starting.map((id) => {
    const record = new StageRecord(
      next.stages.find((stage) => stage.id === id) as Pipeline["stages"][number],
    );
    record.negotiated(prepared.limits.get(id), prepared.directPath.has(id));
    stages.records.set(id, record);
    return record;
  });
  stages.plan = next;
  stages.connectOutputs();
  stages.links = [
    ...staying,
    ...run.openLinks(arriving.filter((record) => record.stage.family !== "source")),
  ];
  run.restreamDirectPath();
  await run.sources.add(arriving.filter((record) => record.stage.family === "source").map((r) => r.id));
  run.sources.resume();
  return { applied: true, changes };
}
