import { serveConsumer } from "@flow/sdk";
import { countingConsumer } from "./counting-consumer";

void serveConsumer(countingConsumer);
