import { checkpointSamples } from "./checkpoint-samples";
import { componentSamples } from "./component-samples";
import { consumerServiceSamples } from "./consumer-service-samples";
import type { ContractSamples } from "./contract-samples";
import { eventSamples } from "./event-samples";
import { processorServiceSamples } from "./processor-service-samples";
import { registryServiceSamples } from "./registry-service-samples";
import { sourceServiceSamples } from "./source-service-samples";

/** Every contract this package vendors, with samples of every message. */
export const ALL_CONTRACTS: readonly ContractSamples[] = [
  eventSamples,
  checkpointSamples,
  componentSamples,
  sourceServiceSamples,
  processorServiceSamples,
  consumerServiceSamples,
  registryServiceSamples,
];
