import { parseHandshake } from "@flow/sdk/internal";
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

/** The contract the handshake names is one Describe lists, of the family Describe says. */
export function handshakeContractCheck(
  line: string | undefined,
  component: ComponentDescriptor,
): CheckResult {
  if (line === undefined)
    return skip("handshake.contract", "no handshake to compare (the kit did not start the service)");
  const handshake = parseHandshake(line);
  const listed = component.contracts.some(
    (contract) => contract.name === handshake.contract && contract.major === handshake.major,
  );
  if (!listed)
    return fail(
      "handshake.contract",
      `the handshake names ${handshake.contract} v${handshake.major}, Describe lists ${component.contracts.map((c) => `${c.name} v${c.major}`).join(", ") || "no contract"}`,
      "print the contract and major the service serves, the same ones Describe lists",
    );
  return pass("handshake.contract", `${handshake.contract} v${handshake.major}, as Describe says`);
}
