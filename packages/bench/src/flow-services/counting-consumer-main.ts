import { serveConsumer } from "@flow/sdk";
import { bothMajors } from "./both-majors";
import { countingConsumer } from "./counting-consumer";

void serveConsumer(countingConsumer, bothMajors("consumer"));
