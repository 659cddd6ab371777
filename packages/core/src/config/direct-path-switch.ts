import type { Environment } from "./env-interpolation";

/** The environment variable that switches the direct data path off, whatever the pipeline file says. */
export const DIRECT_PATH_ENV = "FLOW_DIRECT_PATH";

/** The values of FLOW_DIRECT_PATH that switch the direct data path off (any other leaves the file's choice). */
const OFF_VALUES: readonly string[] = ["off", "0", "false"];

/**
 * Whether a run may use the direct data path (docs/pipeline.md, "Direct data path"): the file's
 * top-level `directPath` (true when left out), unless FLOW_DIRECT_PATH is `off`, `0` or `false`
 * (in any case), which wins over the file. The switch only allows it: each edge is direct only
 * where both of its ends can do it, which negotiation finds out.
 */
export function directPathSwitch(fileValue: boolean | undefined, environment: Environment): boolean {
  const forced = environment[DIRECT_PATH_ENV]?.trim().toLowerCase();
  if (forced !== undefined && OFF_VALUES.includes(forced)) return false;
  return fileValue ?? true;
}
