import type { Environment } from "./env-interpolation";

// The environment variables that switch a run's data-path features off (docs/pipeline.md), to
// compare or to step around a fault, whatever the pipeline file says.

/** The environment variable that switches the direct data path off, whatever the pipeline file says. */
export const DIRECT_PATH_ENV = "FLOW_DIRECT_PATH";

/** The values that switch a feature off (any other leaves it as the file or the default has it). */
const OFF_VALUES: readonly string[] = ["off", "0", "false"];

/** The environment variable that switches bundles on the data streams off (docs/pipeline.md). */
export const STREAM_BUNDLES_ENV = "FLOW_STREAM_BUNDLES";

/** Whether `name` in the environment says off (`off`, `0` or `false`, in any case). */
export function switchedOff(environment: Environment, name: string): boolean {
  const value = environment[name]?.trim().toLowerCase();
  return value !== undefined && OFF_VALUES.includes(value);
}

/**
 * Whether a run may use the direct data path (docs/pipeline.md, "Direct data path"): the file's
 * top-level `directPath` (true when left out), unless FLOW_DIRECT_PATH is `off`, `0` or `false`
 * (in any case), which wins over the file. The switch only allows it: each edge is direct only
 * where both of its ends can do it, which negotiation finds out.
 */
export function directPathSwitch(fileValue: boolean | undefined, environment: Environment): boolean {
  if (switchedOff(environment, DIRECT_PATH_ENV)) return false;
  return fileValue ?? true;
}
