import type { ServiceLocator } from "@flow/core";
import type { FamilyName } from "@flow/sdk/internal";
import { type CheckResult, fail, failFromError, onMajor, skip } from "./check-result";
import { bundleChecks, bundlesNotChecked } from "./checks/bundle-checks";
import { configureChecks } from "./checks/configure-checks";
import { consumerChecks } from "./checks/consumer-checks";
import { replayCrashCheck, sourceCrashCheck } from "./checks/crash-checks";
import { describeChecks } from "./checks/describe-checks";
import { directPathChecks, directPathNotChecked } from "./checks/direct-path-checks";
import { handshakeContractCheck, handshakeLineChecks } from "./checks/handshake-checks";
import { healthChecks } from "./checks/health-checks";
import { sigtermCheck, stdinCheck } from "./checks/lifecycle-checks";
import { processorChecks } from "./checks/processor-checks";
import { listServices, reflectionCallCheck, reflectionListCheck } from "./checks/reflection-checks";
import { sourceChecks } from "./checks/source-checks";
import { type ConformConfig, loadConformConfig } from "./conform-config";
import type { ConformContext } from "./conform-context";
import { eventMajor } from "./event-majors";
import { ALL_KIT_MAJORS, contractName } from "./family-clients";
import { openScenario, type Scenario } from "./scenario";
import { describedMajors, findService, servedMajors, servedMajorsCheck } from "./served-majors";
import { type ServiceInstance, ServiceLauncher } from "./service-launcher";
import { SpareInstance, sameEnvironment } from "./spare-instance";

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
 * Runs every check against one service: the handshake, the majors of its contract it serves,
 * health, reflection, then at each served major the kit speaks Describe, Configure and the
 * family's data plane, then (for a service the kit starts) the stdin and SIGTERM lifecycle and,
 * at each served major, the crash-consistency scenarios. Never throws for what the service does;
 * a check fails instead.
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
  const spare = new SpareInstance(launcher);
  let family: FamilyName | undefined;
  const contexts: ConformContext[] = [];
  let lifecycleMajor: number | undefined;
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
    let kept = false;
    try {
      const found = await findService(instance, timeoutMs);
      if ("problem" in found) {
        report(
          fail(
            "describe.answers",
            found.problem,
            `serve Describe on your family's contract (source_service, processor_service or consumer_service) at a major the kit speaks (${ALL_KIT_MAJORS.map((major) => `v${major}`).join(", ")})`,
          ),
        );
        return done();
      }
      family = found.family;
      const listing = await listServices(instance.target);
      const served = servedMajors(found);
      const described = describedMajors(found, served);
      report(servedMajorsCheck(found, served, listing));
      report(
        handshakeContractCheck(started.observation?.line, family, served, launcher.offeredMajors, described),
      );
      report(...(await healthChecks(instance.target, timeoutMs)));
      report(reflectionListCheck(family, served, listing));
      for (const major of served) {
        const component = described.get(major);
        const answer = found.answers.get(major);
        if (!component) {
          report(
            ...onMajor(contractName(family), major, [
              fail(
                "describe.answers",
                answer && "error" in answer ? answer.error : "Describe gave no answer",
                "serve Describe (and the rest of the contract) on every major you serve",
              ),
            ]),
          );
          continue;
        }
        const context: ConformContext = {
          family,
          major,
          events: eventMajor(major),
          component,
          instance,
          config: scenario.config,
          timeoutMs,
        };
        report(
          ...onMajor(contractName(family), major, [
            ...describeChecks(family, major, component),
            ...(await configureChecks(context)),
            await reflectionCallCheck(family, major, instance.target, component),
          ]),
        );
        const first = contexts.length === 0;
        contexts.push(context);
        report(
          ...onMajor(
            contractName(family),
            major,
            await inScenarioOf(context, !first && family === "source", "data.events", dataPlane),
          ),
        );
        // A source reads a scenario's keys once: its direct data path reads a scenario of its own.
        report(
          ...onMajor(
            contractName(family),
            major,
            directPathNotChecked(context) ??
              (await inScenarioOf(context, family === "source", "direct.peers", directPathChecks)),
          ),
        );
        report(
          ...onMajor(
            contractName(family),
            major,
            bundlesNotChecked(context) ?? (await bundleChecks(context)),
          ),
        );
      }
      lifecycleMajor = instance.handshake?.major;
      if (launcher.spawns) {
        // The lifecycle and crash checks start the service again and again: this one goes on
        // serving the first of them.
        await spare.keep(instance, scenario.config.env);
        kept = true;
      }
    } finally {
      if (!kept) await instance.stop();
    }
  } finally {
    await scenario.close();
  }
  const primary = contexts.find((context) => context.major === lifecycleMajor) ?? contexts.at(-1);
  if (!family || !primary) {
    await spare.close();
    return done();
  }
  const summary = { name: primary.component.name, version: primary.component.version, family };

  if (!launcher.spawns) {
    report(
      skip(
        "lifecycle",
        "the kit did not start the service (address, dns: or registry:): stdin, SIGTERM and crash checks need use: or --command",
      ),
    );
    return done(summary);
  }
  /**
   * Runs one lifecycle or crash check in a scenario of its own, on the spare instance or a new one;
   * a check that passes with an instance still running leaves it as the spare for the next.
   */
  const fresh = async (
    id: string,
    on: ConformContext,
    marked: boolean,
    body: (
      context: ConformContext,
      scenario: Scenario,
      restart: () => Promise<ServiceInstance | undefined>,
    ) => Promise<CheckResult>,
  ): Promise<void> => {
    const mark = (result: CheckResult): CheckResult[] =>
      marked ? onMajor(contractName(on.family), on.major, [result]) : [result];
    let world: Scenario | undefined;
    try {
      world = await openScenario(raw, launcher.workDir);
      const env = world.config.env;
      const started = await spare.take(env);
      const instance = started.instance;
      if (!instance) {
        const stderr = started.observation?.stderrTail.at(-1);
        report(
          ...mark(
            fail(
              id,
              `the service did not start for this check: ${started.problem ?? "no instance"}${stderr ? `; last stderr line: ${stderr}` : ""}`,
              "see the handshake checks above",
            ),
          ),
        );
        return;
      }
      const instances = [instance];
      const restart = async () => {
        const again = (await launcher.start(env)).instance;
        if (again) instances.push(again);
        return again;
      };
      let result: CheckResult | undefined;
      try {
        result = await body({ ...on, instance, config: world.config }, world, restart);
        report(...mark(result));
      } finally {
        const running = instances.filter((candidate) => candidate.process?.running);
        const next = result !== undefined && result.status !== "fail" ? running.at(-1) : undefined;
        for (const other of running) if (other !== next) await other.process?.kill();
        if (next) await spare.keep(next, env);
      }
    } catch (error) {
      report(...mark(failFromError(id, error, "see the message")));
    } finally {
      await world?.close();
    }
  };
  try {
    await fresh("lifecycle.stdin", primary, false, (context) =>
      stdinCheck(context.instance.process as NonNullable<ServiceInstance["process"]>),
    );
    if (!raw.crash) {
      report(skip("crash", `"crash": false in ${raw.origin}`));
    } else {
      for (const context of contexts) {
        if (family === "source") {
          for (const moment of ["mid-batch", "mid-commit"] as const)
            await fresh(`crash.${moment}`, context, true, (scoped, world, restart) =>
              sourceCrashCheck(scoped, world, moment, restart),
            );
        } else {
          await fresh("crash.mid-batch", context, true, (scoped, _world, restart) =>
            replayCrashCheck(scoped, restart),
          );
        }
      }
    }
    await fresh("lifecycle.sigterm", primary, false, (context, world) => sigtermCheck(context, world));
  } finally {
    await spare.close();
  }
  return done(summary);

  /**
   * Checks of one major in a scenario: the run's own, or (`fresh`) one of their own, as a source
   * needs for each read after the first (it reads a scenario's keys once). A fresh scenario is read
   * from the same instance when its environment is the same, else from one started for it; `id`
   * names the failure when that one does not start.
   */
  async function inScenarioOf(
    context: ConformContext,
    fresh: boolean,
    id: string,
    checks: (context: ConformContext, scenario: Scenario) => Promise<CheckResult[]>,
  ): Promise<CheckResult[]> {
    if (!fresh) return checks(context, scenario);
    let world: Scenario;
    try {
      world = await openScenario(raw, launcher.workDir);
    } catch (error) {
      return [failFromError("config.setup", error, `fix "setup" in ${raw.origin}`)];
    }
    try {
      if (!launcher.spawns || sameEnvironment(scenario.config.env, world.config.env))
        return await checks({ ...context, config: world.config }, world);
      const started = await launcher.start(world.config.env);
      if (!started.instance)
        return [
          fail(
            id,
            `the service did not start for this scenario: ${started.problem ?? "no instance"}`,
            "see the handshake checks above",
          ),
        ];
      try {
        return await checks({ ...context, instance: started.instance, config: world.config }, world);
      } finally {
        await started.instance.stop();
      }
    } finally {
      await world.close();
    }
  }
}

function dataPlane(context: ConformContext, scenario: Scenario): Promise<CheckResult[]> {
  if (context.family === "processor") return processorChecks(context);
  if (context.family === "consumer") return consumerChecks(context);
  return sourceChecks(context, scenario);
}

export type { ConformConfig };
