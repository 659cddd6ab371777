import type { ServiceInstance, ServiceLauncher, StartOutcome } from "./service-launcher";

/** An instance started with `env` can serve any scenario whose environment is the same. */
const envKey = (env: Record<string, string>): string =>
  JSON.stringify(Object.entries(env).sort(([a], [b]) => a.localeCompare(b)));

const runs = (instance: ServiceInstance): boolean => instance.process?.running ?? true;

/**
 * The one running instance of the service the kit keeps for its next check, so checks that end
 * with a healthy instance (a crash check's restarted service) spare the next one a start. A
 * service's process knows nothing of a scenario but its environment: an instance started with
 * the same environment serves a new scenario as a new one would (its config comes on the stream).
 */
export class SpareInstance {
  private spare: { instance: ServiceInstance; key: string } | undefined;

  constructor(private readonly launcher: ServiceLauncher) {}

  /** A running instance for a scenario with `env`: the spare when it was started with that env, else a new one. */
  async take(env: Record<string, string>): Promise<StartOutcome> {
    const spare = this.spare;
    this.spare = undefined;
    if (spare && spare.key === envKey(env) && runs(spare.instance)) return { instance: spare.instance };
    await spare?.instance.stop();
    return this.launcher.start(env);
  }

  /** Keeps `instance` (started with `env`) for the next check, stopping the spare it replaces. */
  async keep(instance: ServiceInstance, env: Record<string, string>): Promise<void> {
    const previous = this.spare;
    this.spare = runs(instance) ? { instance, key: envKey(env) } : undefined;
    if (previous && previous.instance !== instance) await previous.instance.stop();
  }

  /** Stops the spare, if there is one. */
  async close(): Promise<void> {
    const spare = this.spare;
    this.spare = undefined;
    await spare?.instance.stop();
  }
}

/** True when a scenario with `env` can use an instance started with `startedWith`. */
export function sameEnvironment(startedWith: Record<string, string>, env: Record<string, string>): boolean {
  return envKey(startedWith) === envKey(env);
}
