import { join } from "node:path";
import { serveConsumer } from "@flow/sdk";
import { ConsumerServiceService } from "../gen/consumer_service/v1/consumer";
import { countingConsumer } from "./counting-consumer";

void serveConsumer(countingConsumer, {
  service: ConsumerServiceService,
  packageDir: join(__dirname, "..", ".."),
});
