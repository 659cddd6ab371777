import type { ServiceLocator } from "@flow/core";
import { FAMILY_NAMES, type FamilyName } from "@flow/sdk/internal";
import type { ComponentDescriptor } from "../gen/component/v1/component";
import { type CheckResult, fail, failFromError, skip } from "./check-result";
import { configureChecks } from "./checks/configure-checks";
import { consumerChecks } from "./checks/consumer-checks";
import { replayCrashCheck, sourceCrashCheck } from "./checks/crash-checks";
import { describeChecks } from "./checks/describe-checks";
import { handshakeContractCheck, handshakeLineChecks } from "./checks/handshake-checks";
import { healthChecks } from "./checks/health-checks";
import { sigtermCheck, stdinCheck } from "./checks/lifecycle-checks";
import { processorChecks } from "./checks/processor-checks";
import { reflectionChecks } from "./checks/reflection-checks";
import { sourceChecks } from "./checks/source-checks";
import { type ConformConfig, loadConformConfig } from "./conform-config";
import type { ConformContext } from "./conform-context";
import { describe } from "./family-clients";
import { openScenario, type Scenario } from "./scenario";
import { type ServiceInstance, ServiceLauncher } from "./service-launcher";

export interface ConformOptions {
  locator: ServiceLocator;
  /** Folder `use:` and `command:` resolve from. */
  baseDir: string;
  /** A conformance config file (JSON); default: the package's conform.json. */
  configPath?: string;
  /** How long the handshake may take (Core's default: 10 s). */
  handshakeTimeoutMs?: number;
  /** How long one answer may take. */
  timeoutMs?: number;
  lookupRegistry?: (name: string) => Promise<string[]>;
  /** Called with each result as it is known (the CLI prints them as they come). */
  onResult?: (result: CheckResult) => void;
}

export interface ConformReport {
  service: string;
  component?: { name: string; version: string; family: FamilyName };
  config: string;
  results: CheckResult[];
  passed: boolean;
}

/**
 * Runs every check against one service: handshake, Describe, Configure, health, reflection,
 * the family's data plane, then (for a service the kit starts) stdin and SIGTERM lifecycle and
 * the crash-consistency scenarios. Never throws for what the service does; a check fails instead.
 */
export async function runConformance(options: ConformOptions): Promise<ConformReport> {
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const launcher = new ServiceLauncher(
    options.locator,
    options.baseDir,
    handshakeTimeoutMs,
    options.lookupRegistry,
  );
  const raw = loadConformConfig({
    configPath: options.configPath,
    packageDir: launcher.packageDir,
    packageName: options.locator.kind === "use" ? options.locator.packageName : undefined,
  });
  const results: CheckResult[] = [];
  const report = (...found: CheckResult[]): void => {
    for (const result of found) {
      results.push(result);
      options.onResult?.(result);
    }
  };
  const done = (component?: ConformReport["component"]): ConformReport => ({
    service: launcher.description,
    component,
    config: raw.origin,
    results,
    passed: results.every((result) => result.status !== "fail"),
  });

  let scenario: Scenario;
  try {
    scenario = await openScenario(raw, launcher.workDir);
  } catch (error) {
    report(failFromError("config.setup", error, `fix "setup" in ${raw.origin}`));
    return done();
  }
  let component: ComponentDescriptor | undefined;
  let family: FamilyName | undefined;
  try {
    const started = await launcher.start(scenario.config.env);
    report(...handshakeLineChecks(started.observation, handshakeTimeoutMs));
    const instance = started.instance;
    if (!instance) {
      if (started.observation === undefined)
        report(
          fail(
            "service.reachable",
            started.problem ?? "not reachable",
            "check the address, name or registry entry",
          ),
        );
      return done();
    }
    try {
      ({ family, component } = await describeService(instance, timeoutMs));
    } catch (error) {
      report(
        failFromError(
          "describe.answers",
          error,
          "serve Describe on your family's contract (source_service, processor_service or consumer_service v1)",
        ),
      );
      await instance.stop();
      return done();
    }
    const context: ConformContext = { family, component, instance, config: scenario.config, timeoutMs };
    report(handshakeContractCheck(started.observation?.line, component));
    report(...describeChecks(family, component));
    report(...(await configureChecks(context)));
    report(...(await healthChecks(instance.target, timeoutMs)));
    report(...(await reflectionChecks(family, instance.target, component)));
    report(...(await dataPlane(context, scenario)));
    await instance.stop();
  } finally {
    await scenario.close();
  }
  const summary = { name: component.name, version: component.version, family };

  if (!launcher.spawns) {
    report(
      skip(
        "lifecycle",
        "the kit did not start the service (address, dns: or registry:): stdin, SIGTERM and crash checks need use: or --command",
      ),
    );
    return done(summary);
  }
  const fresh = async (
    body: (
      context: ConformContext,
      scenario: Scenario,
      restart: () => Promise<ServiceInstance | undefined>,
    ) => Promise<CheckResult>,
    id: string,
  ): Promise<void> => {
    let world: Scenario | undefined;
    try {
      world = await openScenario(raw, launcher.workDir);
      const scenarioWorld = world;
      const restart = async () => (await launcher.start(scenarioWorld.config.env)).instance;
      const started = await launcher.start(world.config.env);
      const instance = started.instance;
      if (!instance) {
        const stderr = started.observation?.stderrTail.at(-1);
        report(
          fail(
            id,
            `the service did not start for this check: ${started.problem ?? "no instance"}${stderr ? `; last stderr line: ${stderr}` : ""}`,
            "see the handshake checks above",
          ),
        );
        return;
      }
      const context: ConformContext = {
        family: family as FamilyName,
        component: component as ComponentDescriptor,
        instance,
        config: world.config,
        timeoutMs,
      };
      try {
        report(await body(context, world, restart));
      } finally {
        if (instance.process?.running) await instance.process.kill();
      }
    } catch (error) {
      report(failFromError(id, error, "see the message"));
    } finally {
      await world?.close();
    }
  };
  await fresh(
    (context) => stdinCheck(context.instance.process as NonNullable<ServiceInstance["process"]>),
    "lifecycle.stdin",
  );
  await fresh((context, world) => sigtermCheck(context, world), "lifecycle.sigterm");
  if (!raw.crash) {
    report(skip("crash", `"crash": false in ${raw.origin}`));
  } else if (family === "source") {
    await fresh(
      (context, world, restart) => sourceCrashCheck(context, world, "mid-batch", restart),
      "crash.mid-batch",
    );
    await fresh(
      (context, world, restart) => sourceCrashCheck(context, world, "mid-commit", restart),
      "crash.mid-commit",
    );
  } else {
    await fresh((context, _world, restart) => replayCrashCheck(context, restart), "crash.mid-batch");
  }
  return done(summary);
}

function dataPlane(context: ConformContext, scenario: Scenario): Promise<CheckResult[]> {
  if (context.family === "processor") return processorChecks(context);
  if (context.family === "consumer") return consumerChecks(context);
  return sourceChecks(context, scenario);
}

/** Describe on the contract the handshake named, else on each family until one answers. */
async function describeService(
  instance: ServiceInstance,
  timeoutMs: number,
): Promise<{ family: FamilyName; component: ComponentDescriptor }> {
  const named = instance.handshake?.contract.replace(/_service$/, "") as FamilyName | undefined;
  const families = named && FAMILY_NAMES.includes(named) ? [named] : [...FAMILY_NAMES];
  const failures: string[] = [];
  for (const family of families) {
    try {
      return { family, component: await describe(family, instance.target, timeoutMs) };
    } catch (error) {
      failures.push(
        `${family}_service: ${(error as { details?: string }).details || (error as Error).message}`,
      );
    }
  }
  throw new Error(`Describe failed: ${failures.join("; ")}`);
}

export type { ConformConfig };
