/**
 * The handshake line a spawned service prints on stdout once it listens, in the spirit of the
 * go-plugin handshake: Flow Core reads the first line that starts with the marker and learns
 * where to connect and which contract the service speaks. Everything else a service prints
 * goes to stderr.
 *
 *   flow-handshake|1|processor_service|1|tcp|127.0.0.1:40123|grpc
 *   marker        |protocol|contract |major|network|address|transport
 */
export const HANDSHAKE_MARKER = "flow-handshake";
export const HANDSHAKE_PROTOCOL_VERSION = 1;

export interface Handshake {
  protocolVersion: number;
  /** The service contract, e.g. "processor_service". */
  contract: string;
  major: number;
  network: "tcp" | "unix";
  /** host:port for tcp, a socket path for unix. */
  address: string;
  transport: "grpc";
}

export function formatHandshake(handshake: Omit<Handshake, "protocolVersion" | "transport">): string {
  return [
    HANDSHAKE_MARKER,
    HANDSHAKE_PROTOCOL_VERSION,
    handshake.contract,
    handshake.major,
    handshake.network,
    handshake.address,
    "grpc",
  ].join("|");
}

/** Parses a handshake line; throws an Error saying what is wrong with it. */
export function parseHandshake(line: string): Handshake {
  const parts = line.trim().split("|");
  if (parts[0] !== HANDSHAKE_MARKER || parts.length !== 7) {
    throw new Error(
      `not a handshake line (expected ${HANDSHAKE_MARKER}|protocol|contract|major|network|address|transport): ${line.trim().slice(0, 200)}`,
    );
  }
  const [, protocol = "", contract = "", major = "", network = "", address = "", transport = ""] = parts;
  const protocolVersion = Number(protocol);
  if (protocolVersion !== HANDSHAKE_PROTOCOL_VERSION) {
    throw new Error(
      `handshake protocol ${protocol} is not supported (this core speaks ${HANDSHAKE_PROTOCOL_VERSION})`,
    );
  }
  if (!/^[a-z][a-z0-9_]*$/.test(contract))
    throw new Error(`handshake names no valid contract: "${contract}"`);
  if (!/^\d+$/.test(major)) throw new Error(`handshake major "${major}" is not a number`);
  if (network !== "tcp" && network !== "unix")
    throw new Error(`handshake network "${network}" is not tcp or unix`);
  if (address === "") throw new Error("handshake has no address");
  if (transport !== "grpc") throw new Error(`handshake transport "${transport}" is not grpc`);
  return { protocolVersion, contract, major: Number(major), network, address, transport };
}

/** True when a stdout line is (meant to be) the handshake. */
export function isHandshakeLine(line: string): boolean {
  return line.startsWith(`${HANDSHAKE_MARKER}|`);
}
