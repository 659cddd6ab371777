import { Worker } from "node:worker_threads";

/**
 * Runs a TypeScript file in a worker thread and resolves with the first message it posts. Jest's
 * transform does not reach worker threads, so the worker compiles .ts files itself with the same
 * compiler jest uses (@swc/core). Tests use this for real parallelism against one database file.
 */
export function runTypeScriptWorker<T>(file: string, workerData: unknown): Promise<T> {
  const bootstrap = `
    const fs = require("node:fs");
    const { transformSync } = require(${JSON.stringify(require.resolve("@swc/core"))});
    require.extensions[".ts"] = (module, filename) => {
      const { code } = transformSync(fs.readFileSync(filename, "utf8"), {
        filename,
        jsc: { parser: { syntax: "typescript" }, target: "es2022" },
        module: { type: "commonjs" },
      });
      module._compile(code, filename);
    };
    require(${JSON.stringify(file)});
  `;
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(bootstrap, { eval: true, workerData });
    let result: { value: T } | undefined;
    worker.once("message", (value: T) => {
      result = { value };
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (result) resolve(result.value);
      else reject(new Error(`worker ${file} exited with code ${code} without a result`));
    });
  });
}
