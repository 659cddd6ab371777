import { type FamilyName, parseHandshake } from "@flow/sdk/internal";
import type { ComponentDescriptor } from "../../gen/component/v1/component";
import { type CheckResult, fail, pass, skip } from "../check-result";
import type { HandshakeObservation } from "../service-process";

const FLUSH_FIX =
  "flush stdout right after printing the handshake line (Python: print(line, flush=True); C: fflush(stdout); Java: System.out.flush())";

/** The handshake line as the process printed it: there, flushed, in time, well formed. */
export function handshakeLineChecks(
  observation: HandshakeObservation | undefined,
  timeoutMs: number,
): CheckResult[] {
  if (!observation)
    return [skip("handshake.flushed", "the kit did not start the service (address, dns: or registry:)")];
  const tail =
    observation.stderrTail.length > 0 ? `; last stderr line: ${observation.stderrTail.at(-1)}` : "";
  if (observation.exitedEarly)
    return [
      fail(
        "handshake.flushed",
        `the process exited (${observation.exitedEarly}) before printing a handshake line${tail}`,
        "run the command by hand and read its stderr; it must keep running and print the handshake line on stdout",
      ),
    ];
  if (observation.atExit)
    return [
      fail(
        "handshake.flushed",
        `no handshake line within ${timeoutMs} ms, but it came out when the process was stopped: stdout was not flushed (Core would wait, then say only "no handshake")`,
        FLUSH_FIX,
      ),
    ];
  if (!observation.inTime || observation.line === undefined)
    return [
      fail(
        "handshake.flushed",
        `no line starting with "flow-handshake|" on stdout within ${timeoutMs} ms, nor when the process stopped${tail}`,
        "print flow-handshake|1|<family>_service|1|tcp|<host:port>|grpc on stdout, once the server listens, and flush it",
      ),
    ];
  const results = [pass("handshake.flushed", `handshake line within ${timeoutMs} ms`)];
  try {
    parseHandshake(observation.line);
    results.push(pass("handshake.format", observation.line));
  } catch (error) {
    results.push(
      fail(
        "handshake.format",
        (error as Error).message,
        "the line is flow-handshake|1|<contract>|<major>|tcp|<host:port>|grpc (docs/any-language.md)",
      ),
    );
  }
  return results;
}

/**
 * The contract the handshake names: the family's, at the highest major both the service serves and
 * the kit offered in FLOW_CONTRACT_MAJORS (the major Core then speaks), and one Describe at that
 * major lists.
 */
export function handshakeContractCheck(
  line: string | undefined,
  family: FamilyName,
  served: readonly number[],
  offered: readonly number[],
  described: ReadonlyMap<number, ComponentDescriptor>,
): CheckResult {
  if (line === undefined)
    return skip("handshake.contract", "no handshake to compare (the kit did not start the service)");
  const handshake = parseHandshake(line);
  const name = `${family}_service`;
  const majors = (list: readonly number[]) => list.map((major) => `v${major}`).join(", ") || "none";
  const both = served.filter((major) => offered.includes(major));
  const highest = both.length > 0 ? Math.max(...both) : undefined;
  const said = `the handshake names ${handshake.contract} v${handshake.major}`;
  const sides = `the service serves ${name} ${majors(served)} and the kit offered FLOW_CONTRACT_MAJORS=${offered.join(",")}`;
  const fix = `print the contract and the highest major you serve that FLOW_CONTRACT_MAJORS lists (${highest === undefined ? "none here" : `${name} v${highest}`}), as Describe at that major lists it`;
  if (handshake.contract !== name)
    return fail("handshake.contract", `${said}, but the service answers Describe on ${name}`, fix);
  const component = described.get(handshake.major);
  if (!served.includes(handshake.major) || !component)
    return fail(
      "handshake.contract",
      `${said}, which the service does not serve (Describe at v${handshake.major}: ${served.includes(handshake.major) ? "no answer" : "UNIMPLEMENTED"}); ${sides}`,
      fix,
    );
  if (!component.contracts.some((c) => c.name === name && c.major === handshake.major))
    return fail(
      "handshake.contract",
      `${said}, Describe at v${handshake.major} lists ${component.contracts.map((c) => `${c.name} v${c.major}`).join(", ") || "no contract"}`,
      fix,
    );
  if (handshake.major !== highest)
    return fail(
      "handshake.contract",
      `${said}, but ${sides}: the highest major both speak is v${highest}${offered.includes(handshake.major) ? "" : `, and v${handshake.major} is not one the kit offered`} (Core speaks the major the handshake names)`,
      fix,
    );
  return pass(
    "handshake.contract",
    `${name} v${handshake.major}, the highest major both the service (${majors(served)}) and the kit (FLOW_CONTRACT_MAJORS=${offered.join(",")}) speak, as Describe says`,
  );
}
