import { formatHandshake } from "@flow/sdk/internal";
import type { ComponentDescriptor } from "../gen/component/v1/component";
import { fail, onMajor } from "./check-result";
import { handshakeContractCheck } from "./checks/handshake-checks";
import { reflectionListCheck } from "./checks/reflection-checks";
import type { DescribeAnswer } from "./family-clients";
import { formatResult } from "./report-lines";
import { describedMajors, type FoundService, servedMajors, servedMajorsCheck } from "./served-majors";

const descriptor = (...majors: number[]): ComponentDescriptor =>
  ({
    name: "p",
    contracts: majors.map((major) => ({ name: "processor_service", major, minor: 0, patch: 0 })),
  }) as unknown as ComponentDescriptor;

const found = (answers: [number, DescribeAnswer][]): FoundService => ({
  family: "processor",
  answers: new Map(answers),
});

const line = (major: number, contract = "processor_service") =>
  formatHandshake({ contract, major, network: "tcp", address: "127.0.0.1:1" });

const listing = (...services: string[]) => ({ services: [...services, "grpc.health.v1.Health"] });
const V1 = "flow.microservices.processor_service.v1.ProcessorService";
const V2 = "flow.microservices.processor_service.v2.ProcessorService";

describe("the majors a service serves", () => {
  it("are those Describe answers at, an error included, not UNIMPLEMENTED (as Core tells them)", () => {
    const service = found([
      [2, { error: "deadline exceeded" }],
      [1, { component: descriptor(1) }],
    ]);
    expect(servedMajors(service)).toEqual([1, 2]);
    expect([...describedMajors(service, [1, 2]).keys()]).toEqual([1]);
    expect(
      servedMajors(
        found([
          [2, { unimplemented: true }],
          [1, { component: descriptor(1) }],
        ]),
      ),
    ).toEqual([1]);
  });

  it("are reported with what the kit speaks, and any major reflection lists beyond it", () => {
    const service = found([
      [2, { unimplemented: true }],
      [1, { component: descriptor(1) }],
    ]);
    expect(
      servedMajorsCheck(
        service,
        [1],
        listing(V1, "flow.microservices.processor_service.v3.ProcessorService"),
      ),
    ).toEqual({
      id: "contract.majors",
      status: "pass",
      why: "serves processor_service v1, of the v1, v2 the kit speaks: the contract checks run at each; reflection also lists v3, which this kit does not speak",
      fix: "",
    });
  });

  it("must all be listed by reflection, and nothing it does not serve", () => {
    expect(reflectionListCheck("processor", [1, 2], listing(V1, V2)).status).toBe("pass");
    expect(reflectionListCheck("processor", [1, 2], listing(V1))).toMatchObject({
      status: "fail",
      why: expect.stringContaining(`does not list ${V2}`),
    });
    expect(reflectionListCheck("processor", [1], listing(V1, V2))).toMatchObject({
      status: "fail",
      why: `reflection lists ${V2}, which the server does not serve (Describe there answers UNIMPLEMENTED)`,
    });
  });
});

describe("the contract a handshake names", () => {
  const both = new Map([
    [1, descriptor(1)],
    [2, descriptor(2)],
  ]);

  it("is the highest major both the service and the kit speak", () => {
    expect(handshakeContractCheck(line(2), "processor", [1, 2], [1, 2], both).status).toBe("pass");
    // A service that ignores FLOW_CONTRACT_MAJORS and serves v1 alone (the Python examples).
    expect(
      handshakeContractCheck(line(1), "processor", [1], [1, 2], new Map([[1, descriptor(1)]])).status,
    ).toBe("pass");
    // The kit offered v1 alone: a service serving both names v1.
    expect(handshakeContractCheck(line(1), "processor", [1, 2], [1], both).status).toBe("pass");
  });

  it("fails naming a lower major than both speak, a major not served, or another family's contract", () => {
    expect(handshakeContractCheck(line(1), "processor", [1, 2], [1, 2], both)).toMatchObject({
      status: "fail",
      why: "the handshake names processor_service v1, but the service serves processor_service v1, v2 and the kit offered FLOW_CONTRACT_MAJORS=1,2: the highest major both speak is v2 (Core speaks the major the handshake names)",
      fix: expect.stringContaining("(processor_service v2)"),
    });
    expect(
      handshakeContractCheck(line(2), "processor", [1], [1, 2], new Map([[1, descriptor(1)]])),
    ).toMatchObject({
      status: "fail",
      why: expect.stringContaining(
        "names processor_service v2, which the service does not serve (Describe at v2: UNIMPLEMENTED)",
      ),
    });
    expect(
      handshakeContractCheck(line(2, "consumer_service"), "processor", [1, 2], [1, 2], both),
    ).toMatchObject({
      status: "fail",
      why: expect.stringContaining("but the service answers Describe on processor_service"),
    });
  });

  it("fails when Describe at that major does not list it", () => {
    expect(
      handshakeContractCheck(
        line(2),
        "processor",
        [1, 2],
        [1, 2],
        new Map([
          [1, descriptor(1)],
          [2, descriptor(1)],
        ]),
      ),
    ).toMatchObject({
      status: "fail",
      why: "the handshake names processor_service v2, Describe at v2 lists processor_service v1",
    });
  });
});

it("a check of one major names it in its report line", () => {
  const [result] = onMajor("processor_service", 2, [fail("data.intact", "changed", "keep it")]);
  expect(result).toMatchObject({ id: "data.intact", contract: "processor_service", major: 2 });
  expect(formatResult(result as never)).toBe(
    "FAIL processor_service v2: data.intact: changed\n  fix: keep it",
  );
});
