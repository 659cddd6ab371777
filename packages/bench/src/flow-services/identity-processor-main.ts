import { join } from "node:path";
import { serveProcessor } from "@flow/sdk";
import { ProcessorServiceService } from "../gen/processor_service/v1/processor";
import { identityProcessor } from "./identity-processor";

void serveProcessor(identityProcessor, {
  service: ProcessorServiceService,
  packageDir: join(__dirname, "..", ".."),
});
