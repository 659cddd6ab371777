import * as grpc from "@grpc/grpc-js";
import { checkHealth, checkServingStatus } from "./health-check";
import { type Running, runProcessor } from "./test-support/family-servers";

const SERVICE = "flow.microservices.processor_service.v1.ProcessorService";

describe("grpc.health.v1 client, against a real server", () => {
  let running: Running<grpc.Client>;
  beforeEach(async () => {
    running = await runProcessor({
      name: "test-health",
      version: "1.0.0",
      configSchema: { type: "object" },
      process: (event) => event,
    });
  });
  afterEach(() => running.close());

  it("checkHealth says how the server and its service are, never throwing", async () => {
    const { address } = running.server;
    expect(await checkHealth(address, 2000)).toBe("serving");
    expect(await checkHealth(address, 2000, SERVICE)).toBe("serving");
    expect(await checkHealth(address, 2000, "no.such.Service")).toBe("unknown");
    running.server.health.setStatus("", "NOT_SERVING");
    expect(await checkHealth(address, 2000)).toBe("not_serving");
    await running.close();
    expect(await checkHealth(address, 1000)).toBe("unreachable");
  });

  it("checkServingStatus answers the status by name and rejects with the call's error", async () => {
    const { address } = running.server;
    expect(await checkServingStatus(address)).toBe("SERVING");
    expect(await checkServingStatus(address, { service: SERVICE, timeoutMs: 2000 })).toBe("SERVING");
    await expect(checkServingStatus(address, { service: "no.such.Service" })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
  });
});
