import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import * as grpc from "@grpc/grpc-js";
import { KIT_CHANNEL_OPTIONS } from "./family-clients";

/** grpc.health.v1 serving statuses by number, as the standard names them. */
const STATUS_NAMES = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];

// grpc.health.v1 has two one-field messages; coding them here keeps the kit free of a second
// proto loader: HealthCheckRequest { string service = 1; }, HealthCheckResponse { ServingStatus status = 1; }.
const encodeRequest = (request: { service: string }): Buffer =>
  Buffer.from(new BinaryWriter().tag(1, 2).string(request.service).finish());

function decodeResponse(bytes: Buffer): { status: string } {
  const reader = new BinaryReader(bytes);
  let status = 0;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === 0) status = reader.int32();
    else reader.skip(wireType);
  }
  return { status: STATUS_NAMES[status] ?? String(status) };
}

const HealthClient = grpc.makeGenericClientConstructor(
  {
    Check: {
      path: "/grpc.health.v1.Health/Check",
      requestStream: false,
      responseStream: false,
      requestSerialize: encodeRequest,
      requestDeserialize: () => ({}),
      responseSerialize: () => Buffer.alloc(0),
      responseDeserialize: decodeResponse,
    },
    Watch: {
      path: "/grpc.health.v1.Health/Watch",
      requestStream: false,
      responseStream: true,
      requestSerialize: encodeRequest,
      requestDeserialize: () => ({}),
      responseSerialize: () => Buffer.alloc(0),
      responseDeserialize: decodeResponse,
    },
  },
  "grpc.health.v1.Health",
);

interface HealthStub extends grpc.Client {
  Check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response: { status: string }) => void,
  ): void;
  Watch(
    request: { service: string },
    options: grpc.CallOptions,
  ): grpc.ClientReadableStream<{ status: string }>;
}

function client(target: string): HealthStub {
  return new HealthClient(
    target,
    grpc.credentials.createInsecure(),
    KIT_CHANNEL_OPTIONS,
  ) as unknown as HealthStub;
}

/** Check with `service`: the status name, or the call's error. */
export function healthCheck(target: string, service: string, timeoutMs: number): Promise<string> {
  const stub = client(target);
  return new Promise<string>((resolve, reject) =>
    stub.Check({ service }, { deadline: new Date(Date.now() + timeoutMs) }, (error, response) =>
      error ? reject(error) : resolve(response.status),
    ),
  ).finally(() => stub.close());
}

/** Watch with `service`: the first status it streams, or the call's error. */
export function healthWatchFirst(target: string, service: string, timeoutMs: number): Promise<string> {
  const stub = client(target);
  return new Promise<string>((resolve, reject) => {
    const call = stub.Watch({ service }, { deadline: new Date(Date.now() + timeoutMs) });
    call.once("data", (response: { status: string }) => {
      resolve(response.status);
      call.cancel();
    });
    call.once("error", (error: grpc.ServiceError) => {
      if (error.code !== grpc.status.CANCELLED) reject(error);
    });
  }).finally(() => stub.close());
}
