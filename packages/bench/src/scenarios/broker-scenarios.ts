import { BROKERS, type Broker, openBrokerTarget, plainEvents } from "../broker/broker-clients";
import { runFlowIntoBroker, runPlainClient } from "../broker/flow-broker-run";
import { PAYLOAD_BYTES } from "../codec/synthetic-events";
import type { Measurement, Scenario, ScenarioContext } from "../scenario";
import { BASELINE_CREDITS } from "./baseline-pipeline-scenarios";

// One scenario per connector consumer: Flow (generator -> consumer-<broker>, acks and checkpoints
// on) into the local broker, against the consumer's own client library publishing the same number
// of events in batches of the same size, each batch awaited with the same confirmations. Both are
// measured in the same run, on a target (stream, queue, topic, key) made for the run and deleted.

const BATCH_SIZE = 100;
/** Broker runs are slower than the in-memory pipelines: 100,000 events (--events overrides). */
export const FULL_BROKER_EVENTS = 100_000;

const CONFIRMS: Record<Broker, string> = {
  nats: "JetStream PubAck per message, Nats-Msg-Id",
  rabbitmq: "persistent, mandatory, publisher confirms",
  mqtt: "QoS 1 PUBACK per message, MQTT 5",
  redis: "all XADD replies of a batch: one MULTI/EXEC per batch",
};

function brokerEvents(context: ScenarioContext): number {
  return context.events ?? (context.quick ? 2_000 : FULL_BROKER_EVENTS);
}

function brokerScenario(broker: Broker): Scenario {
  return {
    name: `flow-into-${broker}`,
    description: `generator -> @flow/consumer-${broker} under \`flow run\` vs its client in a plain loop (${CONFIRMS[broker]}), batch 100 (target: >= 0.7x)`,
    // Needs the local broker; CI's quick run stays independent of it.
    skipInQuick: true,
    async measure(context) {
      const events = brokerEvents(context);
      const target = await openBrokerTarget(broker);
      try {
        const flow = await runFlowIntoBroker(broker, target, {
          events,
          batchSize: BATCH_SIZE,
          inFlight: BASELINE_CREDITS,
          payloadBytes: PAYLOAD_BYTES,
        });
        await target.reset();
        const plain = await runPlainClient(target, plainEvents(events, PAYLOAD_BYTES), BATCH_SIZE);
        const rate = (value: number): string => Math.round(value).toLocaleString("en-US");
        const detail = `${events.toLocaleString("en-US")} events of ${PAYLOAD_BYTES} B, all confirmed (${CONFIRMS[broker]}); Flow timed by polling the broker, the plain loop by its own clock`;
        const figures: Measurement[] = [
          { figure: "plain client batch=100", unit: "events/s", value: plain, detail },
          {
            figure: "flow batch=100",
            unit: "events/s",
            value: flow,
            ratioVs: { scenario: `flow-into-${broker}`, figure: "plain client batch=100" },
            detail,
          },
        ];
        const other = target.consumerWay;
        let otherLog = "";
        if (other) {
          await target.reset();
          const value = await runPlainClient(
            target,
            plainEvents(events, PAYLOAD_BYTES),
            BATCH_SIZE,
            other.publishBatch,
          );
          otherLog = `, ${other.figure} ${rate(value)} events/s`;
          const figure = `${other.figure} batch=100`;
          figures.push(
            {
              figure,
              unit: "events/s",
              value,
              detail: `the same events and confirmations, sent the way the consumer sends them (${other.what})`,
            },
            {
              figure: `flow batch=100 vs ${other.figure}`,
              unit: "events/s",
              value: flow,
              ratioVs: { scenario: `flow-into-${broker}`, figure },
              detail:
                "the same Flow run as flow batch=100, compared with the plain loop that sends what the consumer sends",
            },
          );
        }
        context.log(`flow ${rate(flow)} events/s, plain ${rate(plain)} events/s${otherLog}`);
        return figures;
      } finally {
        await target.close();
      }
    },
  };
}

export const brokerScenarios: readonly Scenario[] = BROKERS.map(brokerScenario);
