import { checkpointSamples } from "./checkpoint-samples";
import { componentSamples } from "./component-samples";
import { consumerServiceSamples, consumerServiceSamplesV2 } from "./consumer-service-samples";
import type { ContractSamples } from "./contract-samples";
import { eventSamples } from "./event-samples";
import { eventV2Samples } from "./event-v2-samples";
import { peerSamples } from "./peer-samples";
import { processorServiceSamples, processorServiceSamplesV2 } from "./processor-service-samples";
import { registryServiceSamples } from "./registry-service-samples";
import { sourceServiceSamples, sourceServiceSamplesV2 } from "./source-service-samples";

/** Every contract this package vendors, with samples of every message. */
export const ALL_CONTRACTS: readonly ContractSamples[] = [
  eventSamples,
  eventV2Samples,
  checkpointSamples,
  componentSamples,
  peerSamples,
  sourceServiceSamples,
  sourceServiceSamplesV2,
  processorServiceSamples,
  processorServiceSamplesV2,
  consumerServiceSamples,
  consumerServiceSamplesV2,
  registryServiceSamples,
];
