import { ScenarioRegistry } from "../scenario-registry";
import { baselinePipelineScenario, forwardingPipelineScenario } from "./baseline-pipeline-scenarios";
import { brokerScenarios } from "./broker-scenarios";
import { buildScenario } from "./build-scenario";
import { codecScenario } from "./codec-scenario";
import { contractMajorScenarios } from "./contract-major-scenarios";
import { databaseScenarios } from "./database-scenarios";
import { flowScenarios } from "./flow-scenarios";
import { flowVariantScenarios } from "./flow-variant-scenarios";
import { httpScenarios } from "./http-scenarios";

/** Every scenario `pnpm bench` knows, baselines before what is compared with them. */
export function defaultScenarioRegistry(): ScenarioRegistry {
  const registry = new ScenarioRegistry();
  registry.register(codecScenario);
  registry.register(baselinePipelineScenario);
  registry.register(forwardingPipelineScenario);
  for (const scenario of flowScenarios) registry.register(scenario);
  for (const scenario of flowVariantScenarios) registry.register(scenario);
  for (const scenario of contractMajorScenarios) registry.register(scenario);
  for (const scenario of brokerScenarios) registry.register(scenario);
  for (const scenario of databaseScenarios) registry.register(scenario);
  for (const scenario of httpScenarios) registry.register(scenario);
  registry.register(buildScenario);
  return registry;
}
