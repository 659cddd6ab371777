import * as registry from "../../gen/registry_service/v1/registry";
import { sampleDescriptor } from "./component-samples";
import { type ContractSamples, samplesOf } from "./contract-samples";

const m = registry;

const sampleService = m.RegisteredService.fromPartial({
  instanceId: "3f2c9e0a",
  name: "orders-sink",
  address: "10.0.0.7:7001",
  component: sampleDescriptor,
  registeredAtMs: 1_700_000_000_000n,
  lastHeartbeatMs: 1_700_000_005_000n,
  expiresAtMs: 2n ** 63n - 1n,
});

const sampleRun = m.PipelineRun.fromPartial({
  runId: "run-0001",
  pipeline: "quickstart",
  status: m.RunStatus.RUN_STATUS_STOPPED,
  startedAtMs: -1n, // before 1970: int64, not uint64
  endedAtMs: 0n,
  stages: [
    { stageId: "gen", eventsIn: 0n, eventsOut: 2n ** 64n - 1n, deadLetters: 0n, restarts: 1n },
    { stageId: "sink", eventsIn: 2n ** 53n + 1n, eventsOut: 2n ** 53n + 1n, deadLetters: 3n, restarts: 0n },
  ],
  error: "",
});

export const registryServiceSamples: ContractSamples = {
  contract: "registry_service/v1",
  module: registry,
  samples: {
    RegisterRequest: samplesOf(
      m.RegisterRequest,
      m.RegisterRequest.fromPartial({
        name: "orders-sink",
        address: "10.0.0.7:7001",
        component: sampleDescriptor,
        ttlSeconds: 30,
      }),
    ),
    RegisterResponse: samplesOf(
      m.RegisterResponse,
      m.RegisterResponse.fromPartial({ instanceId: "3f2c9e0a", ttlSeconds: 4_294_967_295 }),
    ),
    HeartbeatRequest: samplesOf(
      m.HeartbeatRequest,
      m.HeartbeatRequest.fromPartial({ instanceId: "3f2c9e0a" }),
    ),
    HeartbeatResponse: samplesOf(m.HeartbeatResponse, m.HeartbeatResponse.fromPartial({ known: true })),
    DeregisterRequest: samplesOf(
      m.DeregisterRequest,
      m.DeregisterRequest.fromPartial({ instanceId: "3f2c9e0a" }),
    ),
    DeregisterResponse: samplesOf(m.DeregisterResponse, m.DeregisterResponse.fromPartial({})),
    ListServicesRequest: samplesOf(
      m.ListServicesRequest,
      m.ListServicesRequest.fromPartial({ name: "orders-sink" }),
    ),
    ListServicesResponse: samplesOf(
      m.ListServicesResponse,
      m.ListServicesResponse.fromPartial({ services: [sampleService, sampleService] }),
    ),
    RegisteredService: samplesOf(m.RegisteredService, sampleService),
    ListRunsRequest: samplesOf(
      m.ListRunsRequest,
      m.ListRunsRequest.fromPartial({ pipeline: "quickstart", limit: 20 }),
    ),
    ListRunsResponse: samplesOf(
      m.ListRunsResponse,
      m.ListRunsResponse.fromPartial({
        runs: [
          sampleRun,
          { ...sampleRun, runId: "run-0002", status: m.RunStatus.RUN_STATUS_FAILED, error: "sink crashed" },
        ],
      }),
    ),
    PipelineRun: samplesOf(m.PipelineRun, sampleRun),
    StageStats: samplesOf(
      m.StageStats,
      m.StageStats.fromPartial({
        stageId: "filter",
        eventsIn: 10n,
        eventsOut: 4n,
        deadLetters: 6n,
        restarts: 2n ** 63n,
      }),
    ),
  },
};
