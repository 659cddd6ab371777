import Database from "better-sqlite3";
import { FlowProcess, serviceMain } from "./flow-cli";

/**
 * The pipeline the broker specs share: generator → a broker's consumer → the broker → its source →
 * SQLite (`events`, one row per event id), and the faults they inject into it; the faults and the
 * waits also serve pipelines with another sink (`Sink`), such as the SQL consumers' specs.
 */
export interface RoundTrip {
  /** The pipeline's name (its checkpoints and runs in the state store beside the file). */
  name: string;
  total: number;
  /** Events per second the generator makes. */
  rate: number;
  /** The pipeline's `defaults`, as a YAML flow mapping. */
  defaults: string;
  /** The broker's consumer (stage id `to-broker`) and source (`from-broker`): program and config (YAML). */
  consumer: { main: string; config: string };
  source: { main: string; config: string };
}

type Dir = { path: string; file(name: string, text: string): string };

export const SOURCE_STAGE = "from-broker";
export const CONSUMER_STAGE = "to-broker";

/** Writes the pipeline file into `dir`; returns it and its SQLite sink. */
export function roundTripPipeline(dir: Dir, trip: RoundTrip): { file: string; db: string } {
  const db = `${dir.path}/${trip.name}.db`;
  const file = dir.file(
    `${trip.name}.yaml`,
    `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: ${trip.name} }
defaults: ${trip.defaults}
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: ${trip.total}, rate: ${trip.rate} }
  - id: ${SOURCE_STAGE}
    command: [node, ${JSON.stringify(trip.source.main)}]
    config: ${trip.source.config}
consumers:
  - id: ${CONSUMER_STAGE}
    command: [node, ${JSON.stringify(trip.consumer.main)}]
    inputs: [gen]
    config: ${trip.consumer.config}
  - id: db
    command: [node, ${JSON.stringify(serviceMain("@flow/consumer-sqlite"))}]
    inputs: [${SOURCE_STAGE}]
    config: { path: ${JSON.stringify(db)}, table: events }
`,
  );
  return { file, db };
}

/** Rows and distinct ids in the sink (zeros while it does not exist yet). */
export function sinkCounts(db: string): { rows: number; uniq: number } {
  let reader: Database.Database | undefined;
  try {
    reader = new Database(db, { readonly: true, fileMustExist: true });
    return reader.prepare("select count(*) as rows, count(distinct id) as uniq from events").get() as {
      rows: number;
      uniq: number;
    };
  } catch {
    return { rows: 0, uniq: 0 };
  } finally {
    reader?.close();
  }
}

/** How many of the generated ids `gen-1` … `gen-<total>` the sink lacks. */
export function missingIds(db: string, total: number): number {
  const reader = new Database(db, { readonly: true });
  try {
    const ids = new Set((reader.prepare("select id from events").all() as { id: string }[]).map((r) => r.id));
    let missing = 0;
    for (let seq = 1; seq <= total; seq += 1) if (!ids.has(`gen-${seq}`)) missing += 1;
    return missing;
  } finally {
    reader.close();
  }
}

/** The pid of a stage's service, from its first "service started" line. */
export async function servicePid(run: FlowProcess, stage: string): Promise<number> {
  const line = await run.waitForLog(new RegExp(`"stage":"${stage}".*"msg":"service started"`));
  return (JSON.parse(line) as { servicePid: number }).servicePid;
}

/**
 * A sink whose distinct ids a spec counts while a run goes on: the path of the SQLite database of
 * the round trip (table `events`), or a function that counts them in any other store (0 while it
 * does not exist yet).
 */
export type Sink = string | (() => Promise<number>);

/** The distinct ids the sink holds now. */
export async function idsIn(sink: Sink): Promise<number> {
  return typeof sink === "string" ? sinkCounts(sink).uniq : sink();
}

/** Resolves once the sink holds `atLeast` distinct ids; rejects when flow exits first. */
export async function sinkHolds(run: FlowProcess, sink: Sink, atLeast: number): Promise<void> {
  let exited = false;
  const done = run.wait().then(() => {
    exited = true;
  });
  while ((await idsIn(sink)) < atLeast) {
    if (exited) {
      await done;
      throw new Error(
        `flow exited (${run.child.exitCode}) with ${await idsIn(sink)} of ${atLeast} ids in the sink:\n${run.stderr.slice(-3000)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** SIGKILLs the service of `stage` (its pid from servicePid) and resolves once Core has restarted it. */
export async function killService(run: FlowProcess, stage: string, pid: number): Promise<void> {
  process.kill(pid, "SIGKILL");
  await run.waitForLog(new RegExp(`"stage":"${stage}".*"msg":"service restarted"`));
}

/** Resolves when the run ends by itself with exit code 0; rejects with its log otherwise. */
export async function ranToTheEnd(run: FlowProcess): Promise<void> {
  const result = await run.wait();
  if (result.code !== 0) throw new Error(`flow exited ${result.code}:\n${result.stderr.slice(-3000)}`);
}

/**
 * One run of a pipeline that ends by itself, with the service of `stage` SIGKILLed once the sink
 * holds `atLeast` ids; resolves when the run ended (exit 0).
 */
export async function runKillingService(
  file: string,
  sink: Sink,
  stage: string,
  options: { cwd: string; atLeast: number },
): Promise<void> {
  const run = new FlowProcess(["run", file], { cwd: options.cwd });
  const pid = await servicePid(run, stage);
  await sinkHolds(run, sink, options.atLeast);
  await killService(run, stage, pid);
  await ranToTheEnd(run);
}

/**
 * The broker's view of the source, polled while the run goes on: true once it holds nothing more for
 * the source and nothing delivered is left unacknowledged.
 */
export type BrokerSettled = () => Promise<boolean>;

/**
 * A source that never runs dry: once the sink holds every id (and the broker has settled, when the
 * spec can ask it), stop the run (SIGTERM: a drain, exit 130).
 */
export async function runUntilComplete(
  run: FlowProcess,
  sink: Sink,
  total: number,
  settled?: BrokerSettled,
): Promise<void> {
  await sinkHolds(run, sink, total);
  while (settled && !(await settled())) {
    if (run.child.exitCode !== null) throw new Error(`flow exited early:\n${run.stderr.slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  run.kill("SIGTERM");
  expect((await run.wait()).code).toBe(130);
}

/**
 * One run with both services of the broker SIGKILLed mid-run: first the consumer (the sink holds some
 * ids), then the source once the consumer is back. Resolves when every id is in the sink and the run
 * stopped; returns the run (its log) and how long it took.
 */
export async function runKillingBrokerServices(
  file: string,
  db: string,
  trip: RoundTrip,
  options: { cwd: string; endsByItself?: boolean; settled?: BrokerSettled },
): Promise<{ run: FlowProcess; ms: number }> {
  const started = Date.now();
  const run = new FlowProcess(["run", file], { cwd: options.cwd });
  const consumerPid = await servicePid(run, CONSUMER_STAGE);
  const sourcePid = await servicePid(run, SOURCE_STAGE);
  await sinkHolds(run, db, Math.min(2000, trip.total / 10));
  await killService(run, CONSUMER_STAGE, consumerPid);
  await sinkHolds(run, db, Math.floor(trip.total / 4));
  await killService(run, SOURCE_STAGE, sourcePid);
  if (options.endsByItself) expect((await run.wait()).code).toBe(0);
  else await runUntilComplete(run, db, trip.total, options.settled);
  return { run, ms: Date.now() - started };
}

/**
 * SIGKILL of Core (the `flow run` process) at a random point (the sink holding 20 to 60 % of the ids), then a
 * rerun of the same file (same stage ids, so the same consumer / group / session names) until the
 * sink holds every id. The services of the first run stop themselves when Core dies (stdin lifeline).
 */
export async function runKillingCore(
  file: string,
  sink: Sink,
  trip: Pick<RoundTrip, "total">,
  options: { cwd: string; endsByItself?: boolean; settled?: BrokerSettled },
): Promise<{ idsBeforeKill: number; ms: number }> {
  const started = Date.now();
  const first = new FlowProcess(["run", file], { cwd: options.cwd });
  await sinkHolds(first, sink, Math.floor(trip.total * (0.2 + Math.random() * 0.4)));
  first.kill("SIGKILL");
  const killed = await first.wait();
  expect(killed.signal).toBe("SIGKILL");
  const idsBeforeKill = await idsIn(sink);
  const rerun = new FlowProcess(["run", file], { cwd: options.cwd });
  if (options.endsByItself) await ranToTheEnd(rerun);
  else await runUntilComplete(rerun, sink, trip.total, options.settled);
  return { idsBeforeKill, ms: Date.now() - started };
}

/** The round trip through SIGKILLs of both broker services: every id exactly once in SQLite. */
export async function expectExactlyOnceThroughServiceKills(
  dir: Dir,
  trip: RoundTrip,
  options: { endsByItself?: boolean; settled?: BrokerSettled } = {},
): Promise<void> {
  const { file, db } = roundTripPipeline(dir, trip);
  const { ms } = await runKillingBrokerServices(file, db, trip, { cwd: dir.path, ...options });
  console.log(`${trip.name}: ${trip.total} events in ${ms} ms`);
  expect(sinkCounts(db)).toEqual({ rows: trip.total, uniq: trip.total });
  expect(missingIds(db, trip.total)).toBe(0);
}

/** A SIGKILL of Core and a rerun: every id at least once in SQLite. */
export async function expectNoneLostThroughCoreKill(
  dir: Dir,
  trip: RoundTrip,
  options: { endsByItself?: boolean; settled?: BrokerSettled } = {},
): Promise<void> {
  const { file, db } = roundTripPipeline(dir, trip);
  const { idsBeforeKill, ms } = await runKillingCore(file, db, trip, { cwd: dir.path, ...options });
  console.log(`${trip.name}: Core killed with ${idsBeforeKill} ids in the sink; both runs ${ms} ms`);
  expect(missingIds(db, trip.total)).toBe(0);
}
