/**
 * Who owns a partial download: the process that holds its lock (`<part>.lock` holds this
 * process's pid and host) or that named a private partial after its pid. A dead owner's
 * partial is resumed by the next run, and `cache prune` removes what dead owners left.
 *
 * @module
 */
import { hostname } from "node:os";
import process from "node:process";

/** A process that owns a partial file. */
export interface PartialOwner {
  /** Its process id. */
  pid: number;
  /** The host it runs on (a cache shared over the network has several). */
  host: string;
}

/**
 * Whether an owner still runs: `true`, `false`, or `undefined` when this machine cannot tell
 * (another host's process).
 */
export type OwnerAlive = (owner: PartialOwner) => boolean | undefined;

/**
 * This process as an owner.
 *
 * @returns Its pid and host.
 * @example
 * ```ts
 * import { thisOwner } from "./partial_owner.ts";
 * if (thisOwner().pid <= 0) throw new Error();
 * ```
 */
export function thisOwner(): PartialOwner {
  return { pid: process.pid, host: hostname() };
}

/**
 * The real liveness check: a process of this host is alive while signal 0 reaches it (EPERM
 * means it runs as another user); another host's cannot be told from here.
 *
 * @param owner The owner.
 * @returns Whether it runs, or undefined for another host's.
 * @example
 * ```ts
 * import { processAlive, thisOwner } from "./partial_owner.ts";
 * if (processAlive(thisOwner()) !== true) throw new Error("this process runs");
 * ```
 */
export function processAlive(owner: PartialOwner): boolean | undefined {
  if (owner.host !== hostname()) return undefined;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (e) {
    return typeof e === "object" && e !== null && "code" in e && e.code === "EPERM";
  }
}

/**
 * Reads an owner from a lock file's text; undefined for anything else (an old, empty lock).
 *
 * @param text The lock file's contents.
 * @returns The owner, if the text names one.
 * @example
 * ```ts
 * import { parseOwner } from "./partial_owner.ts";
 * if (parseOwner('{"pid":12,"host":"h"}')?.pid !== 12) throw new Error();
 * if (parseOwner("") !== undefined) throw new Error();
 * ```
 */
export function parseOwner(text: string): PartialOwner | undefined {
  try {
    const raw = JSON.parse(text) as { pid?: unknown; host?: unknown };
    if (typeof raw.pid === "number" && typeof raw.host === "string") {
      return { pid: raw.pid, host: raw.host };
    }
  } catch { /* not an owner record */ }
  return undefined;
}

/**
 * The pid a private partial's name carries (`<key>.part.p<pid>-<random>`), if any.
 *
 * @param name A file name in the partial area.
 * @returns The pid, or undefined.
 * @example
 * ```ts
 * import { privatePartialPid } from "./partial_owner.ts";
 * if (privatePartialPid("ab.part.p4242-x1y2") !== 4242) throw new Error();
 * if (privatePartialPid("ab.part") !== undefined) throw new Error();
 * ```
 */
export function privatePartialPid(name: string): number | undefined {
  const m = /\.part\.p(\d+)-[0-9a-z]+$/.exec(name);
  return m ? Number(m[1]) : undefined;
}
