import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type DescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import type { PackageDefinition } from "@grpc/proto-loader";

/**
 * The file descriptors of a proto-loader package definition, made whole for server reflection.
 *
 * proto-loader (protobufjs) writes each file's descriptor with an empty `dependency` list and
 * type references relative to the file's package (grpc-node issue 2595). @grpc/reflection
 * serves them as they are, and a client that builds descriptors from what it downloads, as
 * grpcurl does (file_containing_symbol, then file_by_filename for each dependency), cannot
 * resolve a message another file defines: describing or calling a Flow service fails. Here
 * every type reference is resolved to its fully qualified name and every file lists the files
 * it uses, so the descriptors stand on their own.
 *
 * protobufjs also names a map field's synthetic entry message after the field (`Event.Extensions`).
 * protoc names it `<Field>Entry` (`ExtensionsEntry`), and protoc-based runtimes (Go, C++, Python's
 * descriptor pool, and so `buf curl` and grpcurl) refuse any other name for a `map_entry` message.
 * Entries are renamed as protoc names them before anything is linked.
 */
export function linkFileDescriptors(definition: PackageDefinition): PackageDefinition {
  const files = new Map<string, FileDescriptorProto>();
  for (const entry of Object.values(definition)) {
    for (const bytes of fileDescriptorProtosOf(entry)) {
      const file = fromBinary(FileDescriptorProtoSchema, bytes);
      if (files.has(file.name)) continue;
      nameMapEntriesAsProtoc(file.messageType, file.package);
      files.set(file.name, file);
    }
  }

  const symbols = indexSymbols(files.values());
  const encoded = new Map<string, Buffer>();
  for (const file of files.values()) {
    const used = new Set(file.dependency);
    const link = (field: FieldDescriptorProto, scope: string): void => {
      for (const key of ["typeName", "extendee"] as const) {
        if (field[key] === "") continue;
        const resolved = resolveReference(symbols, field[key], scope);
        if (!resolved) continue;
        field[key] = `.${resolved.name}`;
        if (resolved.file !== file.name) used.add(resolved.file);
      }
    };
    const visitMessages = (messages: DescriptorProto[], scope: string): void => {
      for (const message of messages) {
        const name = qualify(scope, message.name);
        for (const field of [...message.field, ...message.extension]) link(field, name);
        visitMessages(message.nestedType, name);
      }
    };
    visitMessages(file.messageType, file.package);
    for (const extension of file.extension) link(extension, file.package);
    for (const service of file.service) {
      const scope = qualify(file.package, service.name);
      for (const method of service.method) {
        for (const key of ["inputType", "outputType"] as const) {
          const resolved = resolveReference(symbols, method[key], scope);
          if (!resolved) continue;
          method[key] = `.${resolved.name}`;
          if (resolved.file !== file.name) used.add(resolved.file);
        }
      }
    }
    file.dependency = [...used].sort();
    encoded.set(file.name, Buffer.from(toBinary(FileDescriptorProtoSchema, file)));
  }

  return mapFileDescriptorProtos(definition, (protos) =>
    protos.map((bytes) => encoded.get(fromBinary(FileDescriptorProtoSchema, bytes).name) ?? bytes),
  );
}

/**
 * The part of a linked package definition (see `linkFileDescriptors`) that describes `services`:
 * the files that declare them and every file those import, and nothing else.
 *
 * A package's proto/ folder holds every major of its family contract it vendored (the SDK's,
 * every family), but a server registers only the majors it serves (`ServeOptions.major`).
 * Reflection over all of proto/ would describe services the server does not have, whose calls
 * answer UNIMPLEMENTED; over this part, a lookup of one answers NOT_FOUND, and every message a
 * served service uses still resolves.
 */
export function describingOnly(
  definition: PackageDefinition,
  services: readonly string[],
): PackageDefinition {
  const wanted = new Set(services);
  const files = new Map<string, FileDescriptorProto>();
  const names = new Map<Buffer, string>();
  for (const entry of Object.values(definition)) {
    for (const bytes of fileDescriptorProtosOf(entry)) {
      if (names.has(bytes)) continue;
      const file = fromBinary(FileDescriptorProtoSchema, bytes);
      names.set(bytes, file.name);
      if (!files.has(file.name)) files.set(file.name, file);
    }
  }
  const kept = new Set<string>();
  const pending = [...files.values()]
    .filter((file) => file.service.some((service) => wanted.has(qualify(file.package, service.name))))
    .map((file) => file.name);
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (kept.has(name)) continue;
    kept.add(name);
    pending.push(...(files.get(name)?.dependency ?? []));
  }
  return mapFileDescriptorProtos(definition, (protos) =>
    protos.filter((bytes) => kept.has(names.get(bytes) ?? "")),
  );
}

/** The definition with each entry's file descriptors replaced by `map` of them. */
function mapFileDescriptorProtos(
  definition: PackageDefinition,
  map: (protos: Buffer[]) => Buffer[],
): PackageDefinition {
  const mapped: PackageDefinition = {};
  for (const [name, entry] of Object.entries(definition)) {
    const protos = fileDescriptorProtosOf(entry);
    mapped[name] =
      protos.length === 0 ? entry : ({ ...entry, fileDescriptorProtos: map(protos) } as typeof entry);
  }
  return mapped;
}

/**
 * Renames each map entry message to protoc's `<Field>Entry` and points its field at it by its
 * fully qualified name, so the later linking cannot confuse it with a same-named type elsewhere.
 */
function nameMapEntriesAsProtoc(messages: DescriptorProto[], scope: string): void {
  for (const message of messages) {
    const name = qualify(scope, message.name);
    for (const entry of message.nestedType) {
      if (!entry.options?.mapEntry) continue;
      const field = message.field.find((candidate) =>
        [entry.name, `.${qualify(name, entry.name)}`].includes(candidate.typeName),
      );
      if (!field) continue;
      entry.name = protocMapEntryName(field.name);
      field.typeName = `.${qualify(name, entry.name)}`;
    }
    nameMapEntriesAsProtoc(message.nestedType, name);
  }
}

/** protoc's rule (descriptor.cc MapEntryName): CamelCase of the field name, then `Entry`. */
export function protocMapEntryName(fieldName: string): string {
  const camel = fieldName.replace(/(?:^_*|_+)([a-z]?)/g, (_match, letter: string) => letter.toUpperCase());
  return `${camel}Entry`;
}

function fileDescriptorProtosOf(entry: unknown): Buffer[] {
  const protos = (entry as { fileDescriptorProtos?: unknown }).fileDescriptorProtos;
  return Array.isArray(protos) ? (protos as Buffer[]) : [];
}

function qualify(scope: string, name: string): string {
  return scope === "" ? name : `${scope}.${name}`;
}

/** Fully qualified name of every message, enum and service -> the file that defines it. */
function indexSymbols(files: Iterable<FileDescriptorProto>): Map<string, string> {
  const symbols = new Map<string, string>();
  for (const file of files) {
    const addMessages = (messages: DescriptorProto[], scope: string): void => {
      for (const message of messages) {
        const name = qualify(scope, message.name);
        symbols.set(name, file.name);
        for (const nested of message.enumType) symbols.set(qualify(name, nested.name), file.name);
        addMessages(message.nestedType, name);
      }
    };
    addMessages(file.messageType, file.package);
    for (const item of [...file.enumType, ...file.service])
      symbols.set(qualify(file.package, item.name), file.name);
  }
  return symbols;
}

/**
 * Resolves a type reference as protoc does: a leading dot means fully qualified; otherwise the
 * innermost enclosing scope that has the name wins.
 */
function resolveReference(
  symbols: Map<string, string>,
  reference: string,
  scope: string,
): { name: string; file: string } | undefined {
  if (reference.startsWith(".")) {
    const name = reference.slice(1);
    const file = symbols.get(name);
    return file === undefined ? undefined : { name, file };
  }
  for (let current = scope; ; current = current.slice(0, Math.max(0, current.lastIndexOf(".")))) {
    const name = qualify(current, reference);
    const file = symbols.get(name);
    if (file !== undefined) return { name, file };
    if (current === "") return undefined;
  }
}
