import { serveProcessor } from "@flow/sdk";
import { identityProcessor } from "./identity-processor";

void serveProcessor(identityProcessor);
