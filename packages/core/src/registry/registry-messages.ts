import { ComponentDescriptor } from "../gen/component/v1/component";
import {
  type PipelineRun,
  type RegisteredService as RegisteredServiceMessage,
  RunStatus as RunStatusMessage,
} from "../gen/registry_service/v1/registry";
import type { JsonValue, RegisteredService, RunRecord, RunStatus } from "../state/state-store";

// Conversions between the registry contract's messages and the state store's records. The store
// keeps a descriptor in its proto3 JSON form, so `flow registry list --json` and the SQL tables
// read the same as `grpcurl` output.

export function descriptorToJson(descriptor: ComponentDescriptor | undefined): JsonValue {
  return descriptor ? (ComponentDescriptor.toJSON(descriptor) as JsonValue) : null;
}

export function descriptorFromJson(json: JsonValue): ComponentDescriptor | undefined {
  return json === null ? undefined : ComponentDescriptor.fromJSON(json);
}

export function toServiceMessage(service: RegisteredService): RegisteredServiceMessage {
  return {
    instanceId: service.instanceId,
    name: service.name,
    address: service.address,
    component: descriptorFromJson(service.component),
    registeredAtMs: BigInt(service.registeredAt.getTime()),
    lastHeartbeatMs: BigInt(service.lastHeartbeatAt.getTime()),
    expiresAtMs: BigInt(service.expiresAt.getTime()),
  };
}

/** The store's record back from the wire (the TTL is what separates the last heartbeat from expiry). */
export function fromServiceMessage(message: RegisteredServiceMessage): RegisteredService {
  const lastHeartbeatAt = Number(message.lastHeartbeatMs);
  const expiresAt = Number(message.expiresAtMs);
  return {
    instanceId: message.instanceId,
    name: message.name,
    address: message.address,
    component: descriptorToJson(message.component),
    ttlSeconds: Math.round((expiresAt - lastHeartbeatAt) / 1000),
    registeredAt: new Date(Number(message.registeredAtMs)),
    lastHeartbeatAt: new Date(lastHeartbeatAt),
    expiresAt: new Date(expiresAt),
  };
}

const RUN_STATUS: Record<RunStatus, RunStatusMessage> = {
  running: RunStatusMessage.RUN_STATUS_RUNNING,
  succeeded: RunStatusMessage.RUN_STATUS_SUCCEEDED,
  failed: RunStatusMessage.RUN_STATUS_FAILED,
  stopped: RunStatusMessage.RUN_STATUS_STOPPED,
};

export function toRunMessage(run: RunRecord): PipelineRun {
  return {
    runId: run.runId,
    pipeline: run.pipeline,
    status: RUN_STATUS[run.status],
    startedAtMs: BigInt(run.startedAt.getTime()),
    endedAtMs: BigInt(run.endedAt?.getTime() ?? 0),
    stages: run.stages.map((stage) => ({
      stageId: stage.stageId,
      eventsIn: BigInt(stage.eventsIn),
      eventsOut: BigInt(stage.eventsOut),
      deadLetters: BigInt(stage.deadLetters),
      restarts: BigInt(stage.restarts),
    })),
    error: run.error ?? "",
  };
}
