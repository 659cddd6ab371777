import type { ServiceEndpoint } from "../../discovery/service-endpoint";
import type { PreparedServices, RunServices } from "../stage-services";
import { fakeEndpoint } from "./fake-link-stream";

export type FakeEndpoint = ReturnType<typeof fakeEndpoint>;

/** How fake services negotiate: every stage at `major` (else never negotiated), those in `directPath` saying features.direct_path. */
export interface FakeNegotiation {
  major?: number;
  directPath?: readonly string[];
}

/**
 * Services that are there at once: every stage's endpoint is a fake (at target `fake:<id>`) whose
 * recoveries are recorded. A reload's new services are fakes too; `refusePrepare` makes the next
 * prepare fail (as a service that does not start or negotiate would).
 */
export function fakeServices(
  stageIds: string[],
  { major, directPath = [] }: FakeNegotiation = {},
): RunServices & {
  endpoints: Map<string, FakeEndpoint>;
  retired: string[];
  refusePrepare?: Error;
} {
  const endpoints = new Map(stageIds.map((id) => [id, fakeEndpoint(major, `fake:${id}`)]));
  const services = {
    endpoints,
    retired: [] as string[],
    refusePrepare: undefined as Error | undefined,
    start: async () => undefined,
    negotiate: async () => ({ warnings: [], limits: new Map(), directPath: new Set(directPath) }),
    endpoint: (id: string) => endpoints.get(id) as FakeEndpoint,
    watchHealth: () => () => undefined,
    stop: async () => undefined,
    on() {
      return services;
    },
    async prepare(_next: unknown, ids: readonly string[]): Promise<PreparedServices> {
      if (services.refusePrepare) throw services.refusePrepare;
      const fresh = new Map(
        ids.map((id) => [id, fakeEndpoint(major, `fake:${id}`) as unknown as ServiceEndpoint]),
      );
      return { endpoints: fresh, limits: new Map(), directPath: new Set(directPath) };
    },
    install(prepared: PreparedServices) {
      for (const [id, endpoint] of prepared.endpoints) endpoints.set(id, endpoint as unknown as FakeEndpoint);
    },
    discard: async () => undefined,
    async retire(ids: readonly string[]) {
      for (const id of ids) {
        endpoints.delete(id);
        services.retired.push(id);
      }
    },
  };
  return services;
}
