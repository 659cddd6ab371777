import { formatHandshake, HANDSHAKE_PROTOCOL_VERSION, isHandshakeLine, parseHandshake } from "./handshake";

describe("handshake line", () => {
  it("formats marker, protocol, contract, major, network, address and transport, and parses them back", () => {
    const line = formatHandshake({
      contract: "processor_service",
      major: 1,
      network: "tcp",
      address: "127.0.0.1:40123",
    });
    expect(line).toBe("flow-handshake|1|processor_service|1|tcp|127.0.0.1:40123|grpc");
    expect(isHandshakeLine(line)).toBe(true);
    expect(parseHandshake(`${line}\r\n`)).toEqual({
      protocolVersion: HANDSHAKE_PROTOCOL_VERSION,
      contract: "processor_service",
      major: 1,
      network: "tcp",
      address: "127.0.0.1:40123",
      transport: "grpc",
    });
  });

  it("round-trips a unix socket address", () => {
    const line = formatHandshake({
      contract: "consumer_service",
      major: 2,
      network: "unix",
      address: "/tmp/flow/sqlite.sock",
    });
    expect(parseHandshake(line)).toMatchObject({
      network: "unix",
      address: "/tmp/flow/sqlite.sock",
      major: 2,
    });
  });

  it.each([
    ["a log line", "listening on 127.0.0.1:40123", /not a handshake line/],
    ["a missing field", "flow-handshake|1|source_service|1|tcp|127.0.0.1:1", /not a handshake line/],
    [
      "another protocol",
      "flow-handshake|2|source_service|1|tcp|127.0.0.1:1|grpc",
      /protocol 2 is not supported \(this core speaks 1\)/,
    ],
    ["a bad contract name", "flow-handshake|1|Source-Service|1|tcp|127.0.0.1:1|grpc", /no valid contract/],
    [
      "a major that is no number",
      "flow-handshake|1|source_service|v1|tcp|127.0.0.1:1|grpc",
      /major "v1" is not a number/,
    ],
    ["an unknown network", "flow-handshake|1|source_service|1|udp|127.0.0.1:1|grpc", /network "udp"/],
    ["no address", "flow-handshake|1|source_service|1|tcp||grpc", /no address/],
    [
      "another transport",
      "flow-handshake|1|source_service|1|tcp|127.0.0.1:1|http",
      /transport "http" is not grpc/,
    ],
  ])("rejects %s, saying what is wrong", (_what, line, message) => {
    expect(() => parseHandshake(line)).toThrow(message);
  });

  it("tells a handshake line from other output", () => {
    expect(isHandshakeLine("flow-handshake|1|x")).toBe(true);
    expect(isHandshakeLine('{"level":30,"msg":"flow-handshake"}')).toBe(false);
  });
});
