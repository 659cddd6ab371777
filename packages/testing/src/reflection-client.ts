import { dirname, join } from "node:path";
import { create, createFileRegistry, fromBinary, type Registry } from "@bufbuild/protobuf";
import {
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

interface ReflectionRequest {
  list_services?: string;
  file_containing_symbol?: string;
  file_by_filename?: string;
}

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

interface ReflectionClient extends grpc.Client {
  ServerReflectionInfo(): grpc.ClientDuplexStream<ReflectionRequest, ReflectionResponse>;
}

// @grpc/reflection ships the grpc.reflection.v1 proto it serves; a client built from that file
// asks what grpcurl asks. Loaded on first use, so importing @flow/testing costs nothing.
let ReflectionClientConstructor:
  | (new (
      address: string,
      credentials: grpc.ChannelCredentials,
    ) => ReflectionClient)
  | undefined;

function reflectionClient(address: string): ReflectionClient {
  ReflectionClientConstructor ??= grpc.makeGenericClientConstructor(
    loadSync(
      join(
        dirname(require.resolve("@grpc/reflection")),
        "..",
        "proto",
        "grpc",
        "reflection",
        "v1",
        "reflection.proto",
      ),
      { keepCase: true, defaults: true, oneofs: true },
    )["grpc.reflection.v1.ServerReflection"] as grpc.ServiceDefinition,
    "grpc.reflection.v1.ServerReflection",
  ) as unknown as new (
    address: string,
    credentials: grpc.ChannelCredentials,
  ) => ReflectionClient;
  return new ReflectionClientConstructor(address, grpc.credentials.createInsecure());
}

/** One request on a grpc.reflection.v1 ServerReflectionInfo stream, and its answer. */
async function ask(address: string, request: ReflectionRequest): Promise<ReflectionResponse> {
  const client = reflectionClient(address);
  try {
    return await new Promise<ReflectionResponse>((resolve, reject) => {
      const info = client.ServerReflectionInfo();
      info.on("data", (response: ReflectionResponse) => {
        if (response.error_response) reject(new Error(response.error_response.error_message));
        else resolve(response);
        info.end();
      });
      info.on("error", reject);
      info.write(request);
    });
  } finally {
    client.close();
  }
}

/** The services a server lists (list_services), sorted. */
export async function listServices(address: string): Promise<string[]> {
  const response = await ask(address, { list_services: "*" });
  return (response.list_services_response?.service ?? []).map((service) => service.name).sort();
}

/** The file descriptors a server returns for a symbol (file_containing_symbol), parsed. */
export async function filesContainingSymbol(address: string, symbol: string): Promise<FileDescriptorProto[]> {
  const response = await ask(address, { file_containing_symbol: symbol });
  return (response.file_descriptor_response?.file_descriptor_proto ?? []).map((bytes) =>
    fromBinary(FileDescriptorProtoSchema, bytes),
  );
}

/** The file descriptors a server returns for a file name (file_by_filename), parsed. */
export async function filesByName(address: string, name: string): Promise<FileDescriptorProto[]> {
  const response = await ask(address, { file_by_filename: name });
  return (response.file_descriptor_response?.file_descriptor_proto ?? []).map((bytes) =>
    fromBinary(FileDescriptorProtoSchema, bytes),
  );
}

/**
 * Resolves a service the way grpcurl does: the file containing the symbol, then each file its
 * `dependency` list names, by file name, recursively; then builds descriptors from exactly those
 * files with a strict protobuf runtime (protobuf-es). A server whose descriptors name no
 * dependencies, or whose type references do not resolve, fails here as it fails in grpcurl.
 */
export async function resolveLikeGrpcurl(address: string, symbol: string): Promise<Registry> {
  const returned = await filesContainingSymbol(address, symbol);
  const first = returned.find((file) =>
    file.service.some((service) => `${file.package}.${service.name}` === symbol),
  );
  if (!first) throw new Error(`no file returned for ${symbol} declares it`);
  const files = new Map<string, FileDescriptorProto>([[first.name, first]]);
  const pending = [...first.dependency];
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (files.has(name)) continue;
    const file = (await filesByName(address, name)).find((candidate) => candidate.name === name);
    if (!file) throw new Error(`file_by_filename ${name} returned no such file`);
    files.set(name, file);
    pending.push(...file.dependency);
  }
  // protobuf-es, like protoc, wants every file after the files it imports.
  const ordered: FileDescriptorProto[] = [];
  const visit = (file: FileDescriptorProto): void => {
    if (ordered.includes(file)) return;
    for (const dependency of file.dependency) visit(files.get(dependency) as FileDescriptorProto);
    ordered.push(file);
  };
  for (const file of files.values()) visit(file);
  return createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
}
