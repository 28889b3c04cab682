/**
 * Builds real distribution archives for tests: wheels (zip with `.dist-info/METADATA`, `WHEEL`
 * and a `RECORD` of sha256 entries) and sdists (ustar tar.gz with `PKG-INFO` and
 * `pyproject.toml`). Real pip installs the wheels (see `wheel_factory_test.ts`).
 *
 * ```ts
 * import { buildWheel } from "./wheel_factory.ts";
 * const wheel = await buildWheel({ name: "demo", version: "1.0", requiresDist: ["idna>=3"] });
 * // wheel.filename === "demo-1.0-py3-none-any.whl"; wheel.bytes is the archive
 * ```
 *
 * @module
 */

import { gzipSync, zipSync } from "fflate";

/** What to build. */
export interface DistSpec {
  /** Project name as written (`My.Project`); file names use its normalised form. */
  name: string;
  version: string;
  /** PEP 508 requirement strings. */
  requiresDist?: string[];
  requiresPython?: string;
  /** Extras named by `Provides-Extra`. */
  providesExtra?: string[];
  /** Wheel tag triple(s), default `py3-none-any`. */
  tags?: string;
  /** Metadata-Version, default "2.1" for wheels and "2.2" for sdists. */
  metadataVersion?: string;
  /** `Dynamic` fields (sdists, Metadata-Version ≥ 2.2). */
  dynamic?: string[];
  /** Bytes of incompressible padding stored in the archive (to make big files). */
  padding?: number;
}

/** A built archive. */
export interface BuiltDist {
  kind: "wheel" | "sdist";
  filename: string;
  /** The archive bytes. */
  bytes: Uint8Array;
  /** Hex sha256 of `bytes`. */
  sha256: string;
  /** The `METADATA` (wheel) or `PKG-INFO` (sdist) text. */
  metadata: string;
  name: string;
  version: string;
  requiresPython?: string;
}

const encoder = new TextEncoder();

/**
 * Hex sha256 of bytes.
 *
 * @param bytes Input.
 * @returns Lower-case hex digest.
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function recordHash(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  let bin = "";
  for (const b of digest) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** `My.Project` → `my_project`: the PEP 503 name with `_`, as wheel and sdist names use. */
function fileStem(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "_");
}

/**
 * The core metadata text for a spec.
 *
 * @param spec The distribution spec.
 * @param defaultVersion Metadata-Version when the spec gives none.
 */
export function metadataText(spec: DistSpec, defaultVersion = "2.1"): string {
  const lines = [
    `Metadata-Version: ${spec.metadataVersion ?? defaultVersion}`,
    `Name: ${spec.name}`,
    `Version: ${spec.version}`,
    `Summary: Test distribution ${spec.name}`,
  ];
  for (const d of spec.dynamic ?? []) lines.push(`Dynamic: ${d}`);
  if (spec.requiresPython !== undefined) lines.push(`Requires-Python: ${spec.requiresPython}`);
  for (const e of spec.providesExtra ?? []) lines.push(`Provides-Extra: ${e}`);
  for (const r of spec.requiresDist ?? []) lines.push(`Requires-Dist: ${r}`);
  return lines.join("\n") + "\n\n";
}

/** Deterministic incompressible bytes (xorshift), so big test files do not shrink in zip. */
function padding(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** The description of a finished archive. */
async function built(
  kind: BuiltDist["kind"],
  filename: string,
  bytes: Uint8Array,
  metadata: string,
  spec: DistSpec,
): Promise<BuiltDist> {
  const dist: BuiltDist = {
    kind,
    filename,
    bytes,
    sha256: await sha256Hex(bytes),
    metadata,
    name: spec.name,
    version: spec.version,
  };
  if (spec.requiresPython !== undefined) dist.requiresPython = spec.requiresPython;
  return dist;
}

/**
 * Builds a wheel: `<pkg>/__init__.py` (and padding) first, the `.dist-info` last, like real
 * build backends, so `METADATA` sits near the central directory.
 *
 * @param spec What to build.
 * @returns The archive and its facts.
 */
export async function buildWheel(spec: DistSpec): Promise<BuiltDist> {
  const stem = fileStem(spec.name);
  const tags = spec.tags ?? "py3-none-any";
  const filename = `${stem}-${spec.version}-${tags}.whl`;
  const distInfo = `${stem}-${spec.version}.dist-info`;
  const metadata = metadataText(spec, "2.1");
  const [py, abi, plat] = tags.split("-");
  const wheelLines = ["Wheel-Version: 1.0", "Generator: wheelhouse-tests", "Root-Is-Purelib: true"];
  for (const p of (py ?? "py3").split(".")) {
    for (const a of (abi ?? "none").split(".")) {
      for (const pl of (plat ?? "any").split(".")) wheelLines.push(`Tag: ${p}-${a}-${pl}`);
    }
  }
  const files: [string, Uint8Array, number][] = [
    [`${stem}/__init__.py`, encoder.encode(`__version__ = "${spec.version}"\n`), 6],
  ];
  if (spec.padding) files.push([`${stem}/_padding.bin`, padding(spec.padding, spec.padding), 0]);
  files.push([`${distInfo}/METADATA`, encoder.encode(metadata), 6]);
  files.push([`${distInfo}/WHEEL`, encoder.encode(wheelLines.join("\n") + "\n"), 6]);
  const record: string[] = [];
  for (const [path, data] of files) {
    record.push(`${path},sha256=${await recordHash(data)},${data.length}`);
  }
  record.push(`${distInfo}/RECORD,,`);
  files.push([`${distInfo}/RECORD`, encoder.encode(record.join("\n") + "\n"), 6]);
  const entries: Record<string, [Uint8Array, { level: 0 | 6; mtime: Date }]> = {};
  const mtime = new Date("2020-01-01T00:00:00Z");
  for (const [path, data, level] of files) {
    entries[path] = [data, { level: level as 0 | 6, mtime }];
  }
  const bytes = zipSync(entries);
  return await built("wheel", filename, bytes, metadata, spec);
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

/**
 * Writes a ustar archive (regular files only).
 *
 * @param files Path and contents, in order.
 * @returns The uncompressed tar bytes.
 */
export function ustar(files: [string, Uint8Array][]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const [path, data] of files) {
    const header = new Uint8Array(512);
    let name = path;
    let prefix = "";
    if (encoder.encode(path).length > 100) {
      const cut = path.lastIndexOf("/", 155);
      if (cut <= 0 || path.length - cut - 1 > 100) {
        throw new Error(`path too long for ustar: ${path}`);
      }
      prefix = path.slice(0, cut);
      name = path.slice(cut + 1);
    }
    const put = (text: string, at: number): void => header.set(encoder.encode(text), at);
    put(name, 0);
    put(octal(0o644, 8), 100);
    put(octal(0, 8), 108);
    put(octal(0, 8), 116);
    put(octal(data.length, 12), 124);
    put(octal(1577836800, 12), 136);
    put("        ", 148);
    put("0", 156);
    put("ustar\0", 257);
    put("00", 263);
    put(prefix, 345);
    let sum = 0;
    for (const b of header) sum += b;
    put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    blocks.push(header, data);
    const pad = (512 - (data.length % 512)) % 512;
    if (pad) blocks.push(new Uint8Array(pad));
  }
  blocks.push(new Uint8Array(1024));
  const total = blocks.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(total);
  let p = 0;
  for (const b of blocks) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/**
 * Builds an sdist `<stem>-<version>.tar.gz` with `PKG-INFO`, `pyproject.toml` and a package.
 *
 * @param spec What to build (Metadata-Version defaults to 2.2).
 * @returns The archive and its facts.
 */
export async function buildSdist(spec: DistSpec): Promise<BuiltDist> {
  const stem = fileStem(spec.name);
  const base = `${stem}-${spec.version}`;
  const metadata = metadataText(spec, "2.2");
  const deps = (spec.requiresDist ?? []).map((r) => JSON.stringify(r)).join(", ");
  const pyproject = [
    "[build-system]",
    'requires = ["setuptools>=61"]',
    'build-backend = "setuptools.build_meta"',
    "",
    "[project]",
    `name = ${JSON.stringify(spec.name)}`,
    `version = ${JSON.stringify(spec.version)}`,
    `dependencies = [${deps}]`,
    ...(spec.requiresPython === undefined
      ? []
      : [`requires-python = ${JSON.stringify(spec.requiresPython)}`]),
    "",
  ].join("\n");
  const files: [string, Uint8Array][] = [
    [`${base}/PKG-INFO`, encoder.encode(metadata)],
    [`${base}/pyproject.toml`, encoder.encode(pyproject)],
    [`${base}/${stem}/__init__.py`, encoder.encode(`__version__ = "${spec.version}"\n`)],
  ];
  if (spec.padding) files.push([`${base}/${stem}/_padding.bin`, padding(spec.padding, 7)]);
  const bytes = gzipSync(ustar(files), { mtime: 0 });
  return await built("sdist", `${base}.tar.gz`, bytes, metadata, spec);
}
