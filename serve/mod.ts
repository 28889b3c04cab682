/**
 * The serve module: a read-only package index over a source. {@linkcode startServer} listens
 * (on `node:http`, under Deno and Node) and serves PEP 503 HTML and PEP 691 JSON pages with PEP
 * 658 metadata files, PEP 700 sizes and upload times, range requests, conditional requests and
 * optional Basic authentication ({@linkcode BasicAuth}, over an auth file of scrypt or PBKDF2
 * hashes). {@linkcode WheelhouseSource} is the source over a folder `wheelhouse download`
 * wrote, {@linkcode CacheSource} the one over everything a cache holds; other sources
 * implement {@linkcode IndexSource}.
 *
 * ```ts
 * import { startServer, WheelhouseSource } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/manifest.json`, '{"version":1,"generator":"wheelhouse","files":[]}');
 * const server = await startServer({ source: await WheelhouseSource.open(dir) });
 * const page = await fetch(server.indexUrl);
 * if (!(await page.text()).includes("Simple index")) throw new Error();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export type * from "./types.ts";
export { ServeError } from "./types.ts";
export {
  type AuthUser,
  BasicAuth,
  type BasicAuthOptions,
  hashPassword,
  type HashPasswordOptions,
  type InvalidAuthFileCode,
  InvalidAuthFileError,
  parseAuthFile,
  verifyPassword,
} from "./basic_auth.ts";
export {
  type RequestLogEntry,
  type RunningServer,
  startServer,
  type StartServerOptions,
} from "./start_server.ts";
export { WheelhouseSource, type WheelhouseSourceOptions } from "./wheelhouse_source.ts";
export { CacheSource, type CacheSourceOptions } from "./cache_source.ts";
export { UpstreamSource, type UpstreamSourceOptions } from "./upstream_source.ts";
