import { join } from "node:path";
import {
  type CompiledExpression,
  compileExpression,
  describeEvaluationError,
  eventView,
  isJsonataFunction,
  mustCompile,
} from "@flow/expression";
import { type ConfigIssue, deadLetter, type ProcessorDefinition, readPackageVersion } from "@flow/sdk";
import { type MapConfig, mapConfigSchema } from "./map-config";

export interface MapState {
  config: MapConfig;
  payload: CompiledExpression;
  subject?: CompiledExpression;
}

/** A mapped event cannot be sent: the reason becomes its dead letter's. */
class UnmappableError extends Error {}

export const mapProcessor: ProcessorDefinition<MapConfig, MapState> = {
  name: "flow-processor-map",
  version: readPackageVersion(join(__dirname, "..")),
  description:
    "Reshapes each event's JSON payload (and optionally its type and subject) with a JSONata expression",
  configSchema: mapConfigSchema,
  features: { ordering: "total", deadLetters: true },

  validate(config) {
    const issues: ConfigIssue[] = [...compileExpression(config.expression, "/expression", config).issues];
    if (config.subject !== undefined)
      issues.push(...compileExpression(config.subject, "/subject", config).issues);
    return issues;
  },

  setup(config) {
    return {
      config,
      payload: mustCompile(config.expression, "/expression", config),
      subject: config.subject === undefined ? undefined : mustCompile(config.subject, "/subject", config),
    };
  },

  async process(event, state) {
    const view = eventView(event);
    let payload: Buffer;
    let subject: string | undefined;
    try {
      payload = Buffer.from(jsonText(await state.payload.evaluate(view), "expression"), "utf8");
      subject = state.subject ? subjectText(await state.subject.evaluate(view)) : undefined;
    } catch (error) {
      const reason = error instanceof UnmappableError ? error.message : describeEvaluationError(error);
      return deadLetter(`map expression failed: ${reason}`);
    }
    return {
      ...event,
      type: state.config.type ?? event.type,
      subject: subject ?? event.subject,
      datacontenttype: "application/json",
      dataschema: state.config.dataschema ?? "",
      data: payload,
    };
  },
};

function jsonText(value: unknown, what: string): string {
  if (value === undefined) throw new UnmappableError(`the ${what} produced no value for this event`);
  if (isJsonataFunction(value)) throw new UnmappableError(`the ${what} produced a function, not JSON`);
  return JSON.stringify(value);
}

function subjectText(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new UnmappableError(
    `the subject expression must produce a string or a number, not ${Array.isArray(value) ? "an array" : typeof value}`,
  );
}
