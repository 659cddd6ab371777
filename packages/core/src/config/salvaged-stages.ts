import type { UserErrors } from "@flow/errors";
import type { Pipeline } from "./pipeline-model";

/**
 * When a pipeline file has problems, the stages that are still well-formed (a unique id, one
 * usable way to find the service, a config object) are kept on the error, so `flow validate` can
 * also ask those services about their configs and report everything wrong in one go.
 */
const salvaged = new WeakMap<UserErrors, Pipeline>();

export function attachSalvage(error: UserErrors, pipeline: Pipeline): UserErrors {
  salvaged.set(error, pipeline);
  return error;
}

/** The partial pipeline a failed load could still build, if any. Never run it: it is for validation only. */
export function salvageOf(error: unknown): Pipeline | undefined {
  return salvaged.get(error as UserErrors);
}
