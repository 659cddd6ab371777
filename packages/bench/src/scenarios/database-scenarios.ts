import { plainEvents } from "../broker/broker-clients";
import { runFlowIntoTarget, runPlainClient } from "../broker/flow-broker-run";
import { PAYLOAD_BYTES } from "../codec/synthetic-events";
import {
  DATABASES,
  type Database,
  databaseConsumerMain,
  openDatabaseTarget,
} from "../database/database-targets";
import { postgresWriteRate } from "../database/insert-or-copy";
import type { Measurement, Scenario, ScenarioContext } from "../scenario";
import { BASELINE_CREDITS } from "./baseline-pipeline-scenarios";
import { FULL_BROKER_EVENTS } from "./broker-scenarios";

// The SQL consumers against their client library in a plain loop: Flow (generator ->
// consumer-<database> under `flow run`, acks and checkpoints on) into a table made for the run,
// then the plain client writing the same number of events into it, in batches of the same size,
// each batch one transaction with the same idempotent INSERT. Both in the same run.

const BATCH_SIZE = 100;
const WAY: Record<Database, string> = {
  postgres: "BEGIN, one INSERT ... ON CONFLICT (id) DO NOTHING, COMMIT per batch",
  mysql: "START TRANSACTION, one INSERT ... ON DUPLICATE KEY UPDATE id = id, COMMIT per batch",
};

function events(context: ScenarioContext): number {
  return context.events ?? (context.quick ? 2_000 : FULL_BROKER_EVENTS);
}

function databaseScenario(database: Database): Scenario {
  const name = `flow-into-${database}`;
  return {
    name,
    description: `generator -> @flow/consumer-${database} under \`flow run\` vs the plain client (${WAY[database]}), batch 100 (target: >= 0.7x)`,
    // Needs the local database; CI's quick run stays independent of it.
    skipInQuick: true,
    async measure(context) {
      const count = events(context);
      const target = await openDatabaseTarget(database);
      try {
        target.expectIds("gen-1", `gen-${count}`);
        const flow = await runFlowIntoTarget(
          { name: database, main: databaseConsumerMain(database) },
          target,
          {
            events: count,
            batchSize: BATCH_SIZE,
            inFlight: BASELINE_CREDITS,
            payloadBytes: PAYLOAD_BYTES,
          },
        );
        await target.reset();
        const plain = plainEvents(count, PAYLOAD_BYTES);
        target.expectIds(plain[0]?.id ?? "", plain.at(-1)?.id ?? "");
        const plainRate = await runPlainClient(target, plain, BATCH_SIZE);
        const rate = (value: number): string => Math.round(value).toLocaleString("en-US");
        context.log(`flow ${rate(flow)} events/s, plain ${rate(plainRate)} events/s`);
        const detail = `${count.toLocaleString("en-US")} events of ${PAYLOAD_BYTES} B, every batch committed (${WAY[database]}); Flow timed by polling the table, the plain loop by its own clock`;
        return [
          { figure: "plain client batch=100", unit: "events/s", value: plainRate, detail },
          {
            figure: "flow batch=100",
            unit: "events/s",
            value: flow,
            ratioVs: { scenario: name, figure: "plain client batch=100" },
            detail,
          },
        ];
      } finally {
        await target.close();
      }
    },
  };
}

const COPY_BATCH_SIZES = [100, 250, 500, 1000, 2000, 5000];

/** consumer-postgres's INSERT and COPY paths at several batch sizes: where copyThreshold comes from. */
const postgresInsertOrCopy: Scenario = {
  name: "postgres-insert-or-copy",
  description:
    "consumer-postgres's session: one multi-row INSERT ... ON CONFLICT vs COPY into a temporary table + one merge, per batch size (sets copyThreshold)",
  skipInQuick: true,
  async measure(context) {
    const total = context.events ?? 50_000;
    const figures: Measurement[] = [];
    for (const size of context.batchSizes ?? COPY_BATCH_SIZES) {
      const insert = await postgresWriteRate("insert", size, total);
      const copy = await postgresWriteRate("copy", size, total);
      context.log(`batch ${size}: insert ${Math.round(insert)} events/s, copy ${Math.round(copy)} events/s`);
      const detail = `${total.toLocaleString("en-US")} events of ${PAYLOAD_BYTES} B, one transaction per batch, timed around each batch's transaction`;
      figures.push(
        { figure: `insert batch=${size}`, unit: "events/s", value: insert, detail },
        {
          figure: `copy batch=${size}`,
          unit: "events/s",
          value: copy,
          ratioVs: { scenario: "postgres-insert-or-copy", figure: `insert batch=${size}` },
          detail,
        },
      );
    }
    return figures;
  },
};

export const databaseScenarios: readonly Scenario[] = [
  ...DATABASES.map(databaseScenario),
  postgresInsertOrCopy,
];
