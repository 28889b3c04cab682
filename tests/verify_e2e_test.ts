// `wheelhouse verify` (issue 12, item 4): what someone runs after copying a folder to a USB stick.
// A real folder downloaded with the CLI from the example index; the CLI runs as a subprocess.
import assert from "node:assert/strict";
import { join } from "node:path";
import { download, wheelhouse, withServer } from "./_e2e_helpers.ts";

const TARGET = ["--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_28"];

/** Flips one byte in the middle of a file in place, keeping its size and putting its mtime back. */
async function flipByteKeepMtime(path: string): Promise<void> {
  const before = await Deno.stat(path);
  const bytes = await Deno.readFile(path);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0xff;
  const f = await Deno.open(path, { write: true });
  await f.write(bytes);
  f.close();
  await Deno.utime(path, before.atime!, before.mtime!);
  const after = await Deno.stat(path);
  assert.equal(after.size, before.size);
  assert.equal(after.mtime?.getTime(), before.mtime?.getTime());
}

async function wheels(dest: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dest)) if (e.name.endsWith(".whl")) names.push(e.name);
  return names.sort();
}

Deno.test("wheelhouse verify passes a fresh download and names a wheel with one flipped byte as damaged", () =>
  withServer(async (server, dir) => {
    const dest = join(dir, "dest");
    const got = await download(server, dir, ["-d", dest, ...TARGET, "example-app[fast]"]);
    assert.equal(got.code, 0, got.stderr);
    const names = await wheels(dest);
    assert.ok(names.length > 1);

    const clean = await wheelhouse(["verify", dest], dir);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.equal(clean.stdout, `${names.length} files verified in ${dest}\n`);
    assert.equal(clean.stderr, "");

    const victim = names[0]!;
    const manifest = JSON.parse(await Deno.readTextFile(join(dest, "manifest.json"))) as {
      files: { filename: string; sha256: string }[];
    };
    const expected = manifest.files.find((f) => f.filename === victim)!.sha256;
    await flipByteKeepMtime(join(dest, victim));
    const damaged = await wheelhouse(["verify", "dest"], dir);
    assert.equal(damaged.code, 1, damaged.stdout + damaged.stderr);
    const lines = damaged.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 2, damaged.stdout);
    assert.match(
      lines[0]!,
      new RegExp(
        `^damaged: ${
          victim.replaceAll(".", "\\.")
        }: expected sha256 ${expected} \\(manifest\\.json\\), actual [0-9a-f]{64}$`,
      ),
    );
    assert.equal(lines[1], `1 problem in dest (1 damaged); ${names.length - 1} files verified`);

    const json = await wheelhouse(["verify", "--json", "dest"], dir);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as {
      dir: string;
      ok: boolean;
      files: { filename: string; status: string; expected?: string; actual?: string }[];
    };
    assert.equal(report.ok, false);
    assert.equal(report.dir, dest);
    const bad = report.files.filter((f) => f.status !== "ok");
    assert.equal(bad.length, 1);
    assert.equal(bad[0]?.filename, victim);
    assert.equal(bad[0]?.status, "damaged");
    assert.equal(bad[0]?.expected, expected);
  }));

Deno.test("wheelhouse verify of a folder without a manifest exits 2 with one line and no stack trace", () =>
  withServer(async (_server, dir) => {
    await Deno.mkdir(join(dir, "plain"));
    await Deno.writeTextFile(join(dir, "plain", "a-1.0-py3-none-any.whl"), "x");
    const run = await wheelhouse(["verify", "plain"], dir);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, "");
    assert.equal(run.stderr, "error: plain has no manifest.json: not a folder wheelhouse wrote\n");

    const absent = await wheelhouse(["verify"], dir);
    assert.equal(absent.code, 2);
    assert.equal(absent.stderr, "error: wheelhouse does not exist\n");
  }));
