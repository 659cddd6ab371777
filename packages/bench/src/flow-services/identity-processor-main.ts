import { serveProcessor } from "@flow/sdk";
import { bothMajors } from "./both-majors";
import { identityProcessor } from "./identity-processor";

void serveProcessor(identityProcessor, bothMajors("processor"));
