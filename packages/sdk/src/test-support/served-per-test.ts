import * as grpc from "@grpc/grpc-js";
import type { RunningService } from "../serve";

/**
 * The service each test of a file serves (`served.service = await serveX(...)`), with the clients
 * and calls the test opens on it. After each test the calls still open are cancelled (a stopping
 * server would wait for them), the clients closed and the service stopped.
 */
export function servedPerTest() {
  let running: RunningService | undefined;
  const clients: grpc.Client[] = [];
  const calls: grpc.Call[] = [];
  afterEach(async () => {
    for (const call of calls.splice(0)) call.cancel();
    for (const made of clients.splice(0)) made.close();
    await running?.stop();
    running = undefined;
  });
  return {
    get service(): RunningService {
      if (!running)
        throw new Error("servedPerTest: serve a service first (served.service = await serveX(...))");
      return running;
    },
    set service(service: RunningService) {
      running = service;
    },
    /** A client of the service, closed after the test. */
    client<C extends grpc.Client>(
      Client: new (address: string, credentials: grpc.ChannelCredentials) => C,
    ): C {
      const made = new Client(this.service.address, grpc.credentials.createInsecure());
      clients.push(made);
      return made;
    },
    /** A call to cancel after the test, should it still be open. */
    opened<Call extends grpc.Call>(call: Call): Call {
      calls.push(call);
      return call;
    },
  };
}
