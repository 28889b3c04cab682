// Whether the module that asks is the program's entry, under every way the CLI is started:
// `deno run cli/main.ts`, `node dist/wheelhouse.mjs` (Node before 24.2 has no import.meta.main),
// a CommonJS bundle and a Node single executable (where import.meta is empty).
import { realpathSync } from "node:fs";
import process from "node:process";
import { pathToFileURL } from "node:url";

/**
 * Whether `meta` is the entry module's `import.meta`. Inside a bundle every module shares the
 * entry's `import.meta`, so only the entry file may ask.
 */
export function isMainModule(meta: ImportMeta): boolean {
  const main = (meta as { main?: unknown }).main;
  if (typeof main === "boolean") return main;
  // A CommonJS bundle or single executable: import.meta is {} and this file is the program.
  if (typeof meta.url !== "string") return true;
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}
