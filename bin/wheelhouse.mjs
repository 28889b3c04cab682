#!/usr/bin/env node
// `npx wheelhouse …` from a checkout: runs the CLI's sources with the Deno that `npm ci`
// installed, passing the arguments, the exit code and signals through.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
let deno;
try {
  deno = createRequire(join(root, "package.json")).resolve("deno/bin.cjs");
} catch {
  console.error('error: Deno is not installed here; run "npm ci" in ' + root);
  process.exit(1);
}
const child = spawn(
  process.execPath,
  [deno, "run", "-A", "--quiet", join(root, "cli", "main.ts"), ...process.argv.slice(2)],
  { stdio: "inherit" },
);
// Ctrl-C reaches the child through the terminal's process group; SIGTERM is passed on.
process.on("SIGINT", () => {});
process.on("SIGTERM", () => child.kill("SIGTERM"));
child.on("exit", (code, signal) => process.exit(code ?? (signal === "SIGINT" ? 130 : 1)));
