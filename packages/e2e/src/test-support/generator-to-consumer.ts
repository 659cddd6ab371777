import { serviceMain } from "./flow-cli";

/**
 * A pipeline file in `dir`: the generator (`total` events, 10,000 a second) into one consumer of
 * the given package and config (a YAML flow mapping), with batches of 200, 4 in flight and quick
 * restarts; returns its path.
 */
export function generatorToConsumer(
  dir: { file(name: string, text: string): string },
  name: string,
  total: number,
  consumer: { stage: string; packageName: string; config: string },
): string {
  return dir.file(
    `${name}.yaml`,
    `
apiVersion: flow/v1
kind: Pipeline
metadata: { name: ${name} }
defaults: { batch: { maxSize: 200 }, inFlight: 4, restart: { initialDelayMs: 50 } }
sources:
  - id: gen
    command: [node, ${JSON.stringify(serviceMain("@flow/source-generator"))}]
    config: { count: ${total}, rate: 10000 }
consumers:
  - id: ${consumer.stage}
    command: [node, ${JSON.stringify(serviceMain(consumer.packageName))}]
    inputs: [gen]
    config: ${consumer.config}
`,
  );
}
