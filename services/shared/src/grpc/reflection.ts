/**
 * gRPC server reflection from the contracts' real descriptors: the FileDescriptorSets that
 * `npm run proto:generate` builds with `buf build` (proto/gen/descriptors). Built that way, every
 * file keeps its real name (`facerec/internal/keys/v1/keys.proto`), its imports (google/protobuf/*) and
 * fully-qualified type names, so grpcurl can describe and call every method through reflection
 * alone. Each server lists only the services it serves, plus grpc.health.v1.Health.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { PackageDefinition } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";

const DESCRIPTORS = new URL("../../../../proto/gen/descriptors/", import.meta.url);
export const HEALTH_SERVICE = "grpc.health.v1.Health";
/** `buf build` names the health file after the folder grpc-health-check ships it in. */
const HEALTH_FILE = "grpc/health/v1/health.proto";

let files: Buffer[] | undefined;

/** Every file of both descriptor sets, each encoded as a FileDescriptorProto. */
function descriptorFiles(): Buffer[] {
  files ??= ["facerec.binpb", "grpc-health.binpb"].flatMap((name) => {
    const set = fromBinary(FileDescriptorSetSchema, readFileSync(fileURLToPath(new URL(name, DESCRIPTORS))));
    return set.file.map((file) => {
      if (file.package === "grpc.health.v1") file.name = HEALTH_FILE;
      return Buffer.from(toBinary(FileDescriptorProtoSchema, file));
    });
  });
  return files;
}

/** Reflection (v1 and v1alpha) that lists `services` and grpc.health.v1.Health, and describes every contract type. */
export function reflectionFor(services: string[]): ReflectionService {
  // @grpc/reflection reads only `fileDescriptorProtos` from each entry of a package definition.
  const definition = {
    contracts: { fileDescriptorProtos: descriptorFiles() },
  } as unknown as PackageDefinition;
  return new ReflectionService(definition, { services: [...services, HEALTH_SERVICE] });
}
