// Builds a uv-style cache on disk for tests: unpacked wheels under `archive-v0/<id>/` and
// `.http` pointers under `wheels-v5/pypi/<project>/`, as uv 0.4+ lays them out. uv is not on
// the machines that run the tests, so the layout follows uv's source (see
// cache/unstable_uv_cache_store.ts).
import { unzipSync } from "fflate";
import { normalizeName } from "../pep/name.ts";

/** MessagePack of a short string. */
export function msgStr(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return b.length < 32 ? [0xa0 | b.length, ...b] : [0xd9, b.length, ...b];
}

/** uv's `Archive` struct as rmp_serde writes it (an array): [id, hashes, filename, version]. */
export function archivePointer(id: string, sha256: string | undefined): Uint8Array {
  const hashes = sha256 === undefined
    ? [0x90]
    : [0x91, 0x92, ...msgStr("sha256"), ...msgStr(sha256)];
  return new Uint8Array([0x94, ...msgStr(id), ...hashes, ...msgStr("ignored"), 0x00]);
}

/** A `.http` file: payload, then an opaque cache policy, then the payload length (u64 LE). */
export function httpFile(payload: Uint8Array): Uint8Array {
  const policy = new Uint8Array(57).fill(0xab);
  const out = new Uint8Array(payload.length + policy.length + 8);
  out.set(payload, 0);
  out.set(policy, payload.length);
  new DataView(out.buffer).setBigUint64(out.length - 8, BigInt(payload.length), true);
  return out;
}

/** Writes files (relative path -> bytes) under `dir`. */
export async function writeTree(dir: string, files: Record<string, Uint8Array>): Promise<void> {
  for (const [rel, bytes] of Object.entries(files)) {
    const path = `${dir}/${rel}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(path, bytes);
  }
}

/** Puts wheels into a fake uv cache at `root`, unpacked, each with its pointer. */
export async function writeFakeUvCache(
  root: string,
  wheels: readonly { filename: string; bytes: Uint8Array; sha256: string }[],
): Promise<void> {
  let n = 0;
  for (const wheel of wheels) {
    const id = `id${n++}-${wheel.sha256.slice(0, 12)}`;
    await writeTree(`${root}/archive-v0/${id}`, unzipSync(wheel.bytes));
    const project = normalizeName(wheel.filename.split("-", 1)[0]!);
    await writeTree(root, {
      [`wheels-v5/pypi/${project}/${wheel.filename.replace(/\.whl$/, "")}.http`]: httpFile(
        archivePointer(id, wheel.sha256),
      ),
    });
  }
}
