import { parseArgs } from "node:util";

// The middle process's command line: where the source and sink listen and the size of the run.

export interface RelayArguments {
  source: string;
  sink: string;
  events: number;
  batchSize: number;
  /** Batches allowed in flight between source and sink: the credit window. */
  credits: number;
  payloadBytes: number;
}

export function relayArgumentList(args: RelayArguments): string[] {
  return [
    `--source=${args.source}`,
    `--sink=${args.sink}`,
    `--events=${args.events}`,
    `--batch-size=${args.batchSize}`,
    `--credits=${args.credits}`,
    `--payload-bytes=${args.payloadBytes}`,
  ];
}

export function parseRelayArguments(argv: readonly string[]): RelayArguments {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      source: { type: "string" },
      sink: { type: "string" },
      events: { type: "string" },
      "batch-size": { type: "string" },
      credits: { type: "string" },
      "payload-bytes": { type: "string" },
    },
    strict: true,
  });
  const required = (name: keyof typeof values): string => {
    const value = values[name];
    if (value === undefined) throw new Error(`--${name} is required`);
    return value;
  };
  const integer = (name: keyof typeof values): number => {
    const value = Number(required(name));
    if (!Number.isSafeInteger(value) || value < 0)
      throw new Error(`--${name} must be a non-negative integer`);
    return value;
  };
  return {
    source: required("source"),
    sink: required("sink"),
    events: integer("events"),
    batchSize: integer("batch-size"),
    credits: integer("credits"),
    payloadBytes: integer("payload-bytes"),
  };
}
