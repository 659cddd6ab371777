import type { FamilyName } from "@flow/sdk/internal";
import type { ComponentDescriptor } from "../gen/component/v1/component";
import type { ConformConfig } from "./conform-config";
import type { EventMajor } from "./event-majors";
import type { ServiceInstance } from "./service-launcher";

/** What every check after Describe works from: one service, spoken to at one contract major. */
export interface ConformContext {
  family: FamilyName;
  /** The family contract major the checks speak (the gRPC service `…<family>_service.v<major>`). */
  major: number;
  /** The events of that major (event v1 for major 1, event v2 for major 2). */
  events: EventMajor;
  /** What Describe at that major answered. */
  component: ComponentDescriptor;
  instance: ServiceInstance;
  /** The conformance config, placeholders already replaced for this scenario. */
  config: ConformConfig;
  /** How long one answer may take (Core's call and ack timeouts are of this order). */
  timeoutMs: number;
}

/** The largest request the service accepts: what Describe announces, else gRPC's default 4 MiB (as Core assumes). */
export function announcedMessageBytes(component: ComponentDescriptor): number {
  const announced = Number(component.limits?.maxMessageBytes ?? 0n);
  return announced > 0 ? announced : 4 * 1024 * 1024;
}
