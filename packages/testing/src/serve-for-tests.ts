import { type ChannelCredentials, credentials, type ServiceDefinition } from "@grpc/grpc-js";

/** What a test sets when it serves a definition (the fields of @flow/sdk's ServeOptions it uses). */
export interface TestServeOptions {
  service: ServiceDefinition;
  packageDir: string;
  port: number;
  handshake: boolean;
  handleSignals: boolean;
}

/** A service served for the tests of one file, and a client connected to it. */
export interface ServedForTests<Client> {
  readonly address: string;
  readonly client: Client;
}

/**
 * Serves `definition` in this process for the tests of the calling file, and connects a client of
 * the package's generated code to it: `serve` is @flow/sdk's serveSource, serveProcessor or
 * serveConsumer, `Client` the generated client constructor. The service listens on a port the OS
 * chooses, prints no handshake line and installs no signal handlers; it starts before the file's
 * tests (beforeAll) and the client and the service are closed after them (afterAll).
 *
 *     const served = serveForTests(serveSource, fileSource,
 *       { service: SourceServiceService, packageDir: join(__dirname, "..") }, SourceServiceClient);
 *     // in a test: served.client.describe(...)
 */
export function serveForTests<Definition, Client extends { close(): void }>(
  serve: (
    definition: Definition,
    options: TestServeOptions,
  ) => Promise<{ address: string; stop(): Promise<void> }>,
  definition: Definition,
  options: Pick<TestServeOptions, "service" | "packageDir">,
  Client: new (address: string, credentials: ChannelCredentials) => Client,
): ServedForTests<Client> {
  type Running = { service: { address: string; stop(): Promise<void> }; client: Client };
  let running: Running | undefined;
  const started = (): Running => {
    if (!running) throw new Error("serveForTests: the service starts in beforeAll; use it inside a test");
    return running;
  };
  beforeAll(async () => {
    const service = await serve(definition, { ...options, port: 0, handshake: false, handleSignals: false });
    running = { service, client: new Client(service.address, credentials.createInsecure()) };
  });
  afterAll(async () => {
    running?.client.close();
    await running?.service.stop();
    running = undefined;
  });
  return {
    get address() {
      return started().service.address;
    },
    get client() {
      return started().client;
    },
  };
}
