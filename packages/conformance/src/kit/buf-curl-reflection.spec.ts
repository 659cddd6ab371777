import { findWorkspaceRoot } from "@flow/core";
import { bufCurl } from "./buf-curl";
import { type ServiceInstance, ServiceLauncher } from "./service-launcher";

// protoc-based tools (buf curl, grpcurl, Python's descriptor pool) refuse descriptors protoc would
// not build; a built-in service must be described and called through reflection alone.
describe("buf curl against a built-in service, through reflection alone", () => {
  let instance: ServiceInstance;
  beforeAll(async () => {
    const root = findWorkspaceRoot(__dirname) as string;
    const launcher = new ServiceLauncher(
      { kind: "use", packageName: "@flow/source-generator" },
      root,
      10_000,
    );
    const started = await launcher.start({});
    if (!started.instance) throw new Error(`@flow/source-generator did not start: ${started.problem}`);
    instance = started.instance;
  });
  afterAll(() => instance?.stop());

  it("lists the methods", async () => {
    const listed = await bufCurl(instance.target, ["--list-methods"]);
    expect(listed.stderr).toBe("");
    expect(listed.stdout.split("\n")).toEqual(
      expect.arrayContaining([
        "flow.microservices.source_service.v1.SourceService/Describe",
        "flow.microservices.source_service.v1.SourceService/Read",
        "grpc.health.v1.Health/Check",
      ]),
    );
  });

  it("calls Describe and Configure", async () => {
    const described = await bufCurl(
      instance.target,
      ["-d", "{}"],
      "flow.microservices.source_service.v1.SourceService/Describe",
    );
    expect(described.stderr).toBe("");
    expect(JSON.parse(described.stdout)).toMatchObject({
      component: { name: "flow-source-generator", family: "FAMILY_SOURCE" },
    });
    const configured = await bufCurl(
      instance.target,
      ["-d", JSON.stringify({ configJson: '{"count":"many"}', validateOnly: true })],
      "flow.microservices.source_service.v1.SourceService/Configure",
    );
    expect(JSON.parse(configured.stdout)).toMatchObject({
      issues: [expect.objectContaining({ path: "/count" })],
    });
  });
});
