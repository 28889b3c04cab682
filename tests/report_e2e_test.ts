// End-to-end tests of `wheelhouse download --report`: the CLI as a subprocess against the test
// index server, and a Python reader that knows only pip's installation report format (version 1)
// as the consumer of the report.
import assert from "node:assert/strict";
import { join } from "node:path";
import { runPython } from "./_python.ts";
import { download, withServer } from "./_e2e_helpers.ts";
import { sha256Hex } from "./wheel_factory.ts";

const HAVE_PYTHON = (await runPython(["--version"], "."))?.code === 0;
if (!HAVE_PYTHON) console.warn("SKIPPING the pip-format report checks: python3 is not available");

const LINUX = ["--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_28"];
const MAC_AND_WINDOWS = [
  "--python-platform",
  "aarch64-apple-darwin",
  "--python-platform",
  "x86_64-pc-windows-msvc",
];

// A reader of pip's report as a tool written for `pip install --dry-run --report` would be: it
// knows pip's fields only (a list is read element by element). argv: the report, the folder of
// the files, and a JSON object {name: requested extras} of the run's top-level requirements
// (null for "every install is requested").
const PIP_READER = String.raw`
import hashlib, json, os, re, sys
from urllib.parse import unquote, urlsplit

def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()

path, folder, top = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with open(path) as f:
    doc = json.load(f)
reports = doc if isinstance(doc, list) else [doc]
count = 0
for report in reports:
    assert report["version"] == "1", report["version"]
    assert isinstance(report["environment"]["python_version"], str), report["environment"]
    for item in report["install"]:
        meta = item["metadata"]
        assert meta["name"] and meta["version"], meta
        url = item["download_info"]["url"]
        sha256 = item["download_info"]["archive_info"]["hashes"]["sha256"]
        assert item["download_info"]["archive_info"]["hash"] == "sha256=" + sha256
        name = canonical(meta["name"])
        want = True if top is None else name in top
        assert item["requested"] is want, (name, item["requested"])
        extras = top.get(name, []) if top is not None else []
        assert item.get("requested_extras", []) == extras, (name, item.get("requested_extras"))
        assert item["is_direct"] in (True, False) and item["is_yanked"] in (True, False)
        filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        with open(os.path.join(folder, filename), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == sha256, filename
        count += 1
print(len(reports), count)
`;

/** Runs the pip-format reader; returns what it printed: the report count and the install count. */
async function readAsPip(
  report: string,
  folder: string,
  top: Record<string, string[]> | null,
): Promise<string> {
  const run = await runPython(["-c", PIP_READER, report, folder, JSON.stringify(top)], ".");
  assert.ok(run !== undefined, "python3 runs");
  assert.equal(run.code, 0, run.stderr);
  return run.stdout.trim();
}

/** The report's elements, whether it is one object or a list. */
function reportsOf(doc: unknown): Record<string, unknown>[] {
  return (Array.isArray(doc) ? doc : [doc]) as Record<string, unknown>[];
}

interface Item {
  metadata: { name: string; version: string; requires_dist?: string[]; summary?: string };
  download_info: { url: string; archive_info: { hashes?: { sha256: string } } };
  requested: boolean;
  requested_extras?: string[];
  is_direct: boolean;
  is_yanked: boolean;
  filename: string;
  size: number | null;
  targets: string[];
  cached: boolean;
}

function installsOf(report: Record<string, unknown>): Item[] {
  return report["install"] as Item[];
}

Deno.test({
  name: "--report for one target is one pip report whose installs pip's readers understand",
  ignore: !HAVE_PYTHON,
  fn: () =>
    withServer(async (server, dir) => {
      const run = await download(server, dir, [
        "-d",
        "wh",
        ...LINUX,
        "example-app[fast]",
        "--report",
        "report.json",
      ]);
      assert.equal(run.code, 0, run.stderr);
      const path = join(dir, "report.json");
      assert.equal(
        await readAsPip(path, join(dir, "wh"), { "example-app": ["fast"] }),
        "1 5",
      );
      const doc = JSON.parse(await Deno.readTextFile(path));
      assert.ok(!Array.isArray(doc), "one target, one object");
      assert.equal(doc.target, "cp311-x86_64-manylinux_2_28");
      assert.equal(doc.environment.sys_platform, "linux");
      assert.equal(doc.environment.python_full_version, "3.11.0");
      const app = installsOf(doc).find((i) => i.metadata.name === "example-app")!;
      // The metadata is the document the resolver read, in PEP 566's JSON form.
      assert.equal(app.metadata.summary, "Test distribution example-app");
      assert.ok(app.metadata.requires_dist?.includes("example-speedups>=0.3; extra == 'fast'"));
      assert.ok(app.download_info.url.startsWith(server.url));
      for (const item of installsOf(doc)) {
        const bytes = await Deno.readFile(join(dir, "wh", item.filename));
        assert.equal(item.size, bytes.length, item.filename);
        assert.deepEqual(item.targets, ["cp311-x86_64-manylinux_2_28"]);
        assert.equal(item.cached, false, "fetched in this run");
        assert.equal(item.is_direct, false);
      }
    }),
});

Deno.test({
  name: "--report for three targets is a list of pip reports, one per target with its own files",
  ignore: !HAVE_PYTHON,
  fn: () =>
    withServer(async (server, dir) => {
      const run = await download(server, dir, [
        "-d",
        "wh",
        ...LINUX,
        ...MAC_AND_WINDOWS,
        "example-app[fast]",
        "--report",
        "report.json",
      ]);
      assert.equal(run.code, 0, run.stderr);
      const path = join(dir, "report.json");
      // Windows adds example-color (a dependency there): 5 + 5 + 6 installs.
      assert.equal(
        await readAsPip(path, join(dir, "wh"), { "example-app": ["fast"] }),
        "3 16",
      );
      const reports = JSON.parse(await Deno.readTextFile(path));
      assert.ok(Array.isArray(reports));
      assert.deepEqual(
        reports.map((r: { target: string }) => r.target),
        [
          "cp311-x86_64-manylinux_2_28",
          "cp311-aarch64-apple-darwin",
          "cp311-x86_64-pc-windows-msvc",
        ],
      );
      assert.deepEqual(
        reports.map((r: { environment: { sys_platform: string } }) => r.environment.sys_platform),
        ["linux", "darwin", "win32"],
      );
      const speedups = reports.map((r: Record<string, unknown>) =>
        installsOf(r).find((i) => i.metadata.name === "example-speedups")!.filename
      );
      assert.match(speedups[0] ?? "", /manylinux.*x86_64\.whl$/);
      assert.match(speedups[1] ?? "", /macosx_.*arm64\.whl$/);
      assert.match(speedups[2] ?? "", /win_amd64\.whl$/);
      const color = installsOf(reports[2]).find((i) => i.metadata.name === "example-color")!;
      assert.equal(color.requested, false);
      assert.deepEqual(color.targets, ["cp311-x86_64-pc-windows-msvc"]);
      const http = installsOf(reports[0]).find((i) => i.metadata.name === "example-http")!;
      assert.equal(http.targets.length, 3, "a file every target installs lists them all");
    }),
});

Deno.test({
  name:
    "--report marks direct references, yanked pins, and requirements whose marker holds per target",
  ignore: !HAVE_PYTHON,
  fn: () =>
    withServer(
      async (server, dir) => {
        const certs = `${server.url}files/example_certs-2024.2.2-py3-none-any.whl`;
        const run = await download(server, dir, [
          "-d",
          "wh",
          ...LINUX,
          "--python-platform",
          "x86_64-pc-windows-msvc",
          "example-http",
          "example-idna==3.6",
          `example-certs @ http://user:pw@${new URL(certs).host}/files/${certs.split("/").pop()}`,
          "example-color; sys_platform == 'win32'",
          "--report",
          "report.json",
        ]);
        assert.equal(run.code, 0, run.stderr);
        const path = join(dir, "report.json");
        const text = await Deno.readTextFile(path);
        assert.doesNotMatch(text, /user:pw/, "credentials are redacted");
        const [linux, windows] = reportsOf(JSON.parse(text));
        const top = {
          "example-http": [],
          "example-idna": [],
          "example-certs": [],
          "example-color": [],
        };
        // On Linux the marker of example-color does not hold and nothing else needs it: 3 + 4.
        assert.equal(await readAsPip(path, join(dir, "wh"), top), "2 7");
        const byName = (r: Record<string, unknown>) =>
          new Map(installsOf(r).map((i) => [i.metadata.name, i]));
        const l = byName(linux!), w = byName(windows!);
        assert.equal(l.has("example-color"), false);
        assert.equal(w.get("example-color")?.requested, true);
        assert.equal(l.get("example-idna")?.is_yanked, true);
        assert.equal(l.get("example-idna")?.requested, true);
        assert.equal(l.get("example-certs")?.is_direct, true);
        assert.equal(l.get("example-http")?.is_direct, false);
        assert.equal(l.get("example-http")?.is_yanked, false);
      },
      { yanked: { "example_idna-3.6-py3-none-any.whl": "broken" } },
    ),
});

Deno.test("a dry-run report gives the size of cached files, even from an index that states none", () =>
  withServer(
    async (server, dir) => {
      const args = [...LINUX, "example-app", "--dry-run", "--report", "-"];
      // HTML pages carry no sizes: before anything is cached, the plan cannot know them.
      const cold = await download(server, dir, ["-d", "wh", ...args]);
      assert.equal(cold.code, 0, cold.stderr);
      for (const item of installsOf(JSON.parse(cold.stdout))) {
        assert.equal(item.cached, false);
        assert.equal(item.size, null, item.filename);
      }
      const warm = await download(server, dir, ["-d", "wh", ...LINUX, "example-app"]);
      assert.equal(warm.code, 0, warm.stderr);
      // Another folder: every file is in the cache, none in the folder.
      const cached = await download(server, dir, ["-d", "other", ...args]);
      assert.equal(cached.code, 0, cached.stderr);
      const items = installsOf(JSON.parse(cached.stdout));
      assert.equal(items.length, 4);
      for (const item of items) {
        const bytes = await Deno.readFile(join(dir, "wh", item.filename));
        assert.equal(item.cached, true, item.filename);
        assert.equal(item.size, bytes.length, item.filename);
        assert.equal(
          item.download_info.archive_info.hashes?.sha256,
          await sha256Hex(bytes),
          item.filename,
        );
      }
      // And the files already in the folder.
      const present = await download(server, dir, ["-d", "wh", ...args]);
      assert.equal(present.code, 0, present.stderr);
      for (const item of installsOf(JSON.parse(present.stdout))) {
        assert.equal(typeof item.size, "number", item.filename);
        assert.equal(item.cached, true, item.filename);
      }
    },
    { format: "html" },
  ));

Deno.test({
  name:
    "--report of a lock run is a pip report from what the lock knows; all platforms is one object",
  ignore: !HAVE_PYTHON,
  fn: () =>
    withServer(async (server, dir) => {
      const first = await download(server, dir, ["-d", "wh", ...LINUX, "example-app"]);
      assert.equal(first.code, 0, first.stderr);
      // The folder's own pylock.toml, with relative paths, is the lock.
      const lock = join(dir, "wh", "pylock.toml");
      const run = await download(server, dir, [
        "-d",
        "again",
        ...LINUX,
        "--lock",
        lock,
        "--report",
        "report.json",
      ]);
      assert.equal(run.code, 0, run.stderr);
      const path = join(dir, "report.json");
      assert.equal(await readAsPip(path, join(dir, "again"), null), "1 4");
      const doc = JSON.parse(await Deno.readTextFile(path));
      const http = installsOf(doc).find((i) => i.metadata.name === "example-http")!;
      assert.equal(http.metadata.version, "2.1.0");
      assert.equal(http.metadata.requires_dist, undefined, "a pylock.toml states no dependencies");
      const all = await download(server, dir, [
        "-d",
        "all",
        "--lock",
        lock,
        "--all-platforms",
        "--report",
        "-",
      ]);
      assert.equal(all.code, 0, all.stderr);
      const every = JSON.parse(all.stdout);
      assert.ok(!Array.isArray(every));
      assert.equal(every.target, null);
      assert.deepEqual(every.environment, {});
      assert.equal(installsOf(every).length, 4);
      for (const item of installsOf(every)) assert.deepEqual(item.targets, []);
    }),
});
