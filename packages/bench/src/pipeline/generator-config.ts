// The source's configuration, carried in ReadStart.config_json as the contract intends, so the
// source process needs no arguments and serves any number of streams with different sizes.

export interface GeneratorConfig {
  /** Events to produce on the stream before sending `exhausted`. */
  events: number;
  payload_bytes: number;
}

export function parseGeneratorConfig(json: string): GeneratorConfig {
  const value = JSON.parse(json) as Partial<GeneratorConfig>;
  if (!Number.isSafeInteger(value.events) || (value.events as number) < 0) {
    throw new Error(`config_json.events must be a non-negative integer: ${json}`);
  }
  if (!Number.isSafeInteger(value.payload_bytes) || (value.payload_bytes as number) < 0) {
    throw new Error(`config_json.payload_bytes must be a non-negative integer: ${json}`);
  }
  return { events: value.events as number, payload_bytes: value.payload_bytes as number };
}
