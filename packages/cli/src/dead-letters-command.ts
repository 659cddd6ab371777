import { existsSync, writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { type DeadLetterRecord, loadPipeline, readDeadLetters } from "@flow/core";
import { UserError } from "@flow/errors";
import type { Command } from "commander";

interface SelectOptions {
  stage?: string;
  run?: string;
}

/** The pipeline's dead letters, narrowed to a stage and a run when asked. */
function selectDeadLetters(file: string, options: SelectOptions) {
  const pipeline = loadPipeline(resolve(file));
  const path = pipeline.deadLetters.path;
  const records = readDeadLetters(path).filter(
    (record) =>
      record.pipeline === pipeline.name &&
      (options.stage === undefined || record.stage === options.stage) &&
      (options.run === undefined || record.runId === options.run),
  );
  return { pipeline, path, records };
}

/** A record as one JSON line, the event spliced in verbatim (exact payload digits). */
function recordJson(record: DeadLetterRecord): string {
  const { eventJson, eventId: _id, eventType: _type, ...head } = record;
  return `${JSON.stringify(head).slice(0, -1)},"event":${eventJson}}`;
}

function countsByStageAndReason(records: readonly DeadLetterRecord[]): [string, string, number][] {
  const counts = new Map<string, [string, string, number]>();
  for (const record of records) {
    const key = JSON.stringify([record.stage, record.reason]);
    const entry = counts.get(key) ?? [record.stage, record.reason, 0];
    entry[2] += 1;
    counts.set(key, entry);
  }
  return [...counts.values()].sort((a, b) => b[2] - a[2]);
}

/** `flow dead-letters list|export`: see what a pipeline gave up on, and get it back out to replay. */
export function registerDeadLettersCommand(program: Command): void {
  const deadLetters = program
    .command("dead-letters")
    .description("See a pipeline's dead letters, or export their events to replay them");
  const selection = (command: Command) =>
    command
      .option("--stage <id>", "only the dead letters of this stage")
      .option("--run <id>", "only those of this run (see flow status)");

  selection(
    deadLetters
      .command("list")
      .description("Count dead letters by stage and reason, and show the latest")
      .argument("<pipeline>", "the pipeline file (its deadLetters.path is read)")
      .option("--limit <n>", "how many of the latest to show", "10")
      .option("--json", "print every selected dead letter as a JSON line"),
  ).action((file: string, options: SelectOptions & { limit: string; json?: boolean }) => {
    const limit = Number(options.limit);
    if (!Number.isInteger(limit) || limit < 0)
      throw new UserError(`--limit expects a whole number, got "${options.limit}"`);
    const { path, records } = selectDeadLetters(file, options);
    if (options.json) {
      for (const record of records) console.log(recordJson(record));
      return;
    }
    const shown = relative(process.cwd(), path) || path;
    if (records.length === 0) {
      console.log(`no dead letters in ${shown}`);
      return;
    }
    console.log(`${records.length} dead letter(s) in ${shown}`);
    for (const [stage, reason, count] of countsByStageAndReason(records))
      console.log(`  ${String(count).padStart(7)}  ${stage}: ${reason}`);
    if (limit === 0) return;
    console.log(`latest ${Math.min(limit, records.length)}:`);
    for (const record of records.slice(-limit))
      console.log(
        `  ${record.at}  run ${record.runId}  ${record.stage}  ${record.eventId} (${record.eventType})  ${record.reason}`,
      );
  });

  selection(
    deadLetters
      .command("export")
      .description("Write the selected dead letters' events as CloudEvents JSON lines, to replay them")
      .argument("<pipeline>", "the pipeline file (its deadLetters.path is read)")
      .argument("<out>", "the JSON Lines file to write")
      .option("--force", "overwrite <out> if it exists"),
  ).action((file: string, out: string, options: SelectOptions & { force?: boolean }) => {
    if (existsSync(out) && !options.force)
      throw new UserError(`${out} already exists`, {
        hint: "choose another file, or pass --force to overwrite it",
      });
    const { records } = selectDeadLetters(file, options);
    writeFileSync(out, records.map((record) => `${record.eventJson}\n`).join(""));
    console.log(`wrote ${records.length} event(s) to ${out}`);
    if (records.length > 0)
      console.log(
        `replay them with a source stage:\n  - id: replay\n    use: "@flow/source-file"\n    config: { path: ${JSON.stringify(resolve(out))}, format: cloudevents }`,
      );
  });
}
