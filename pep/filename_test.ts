import assert from "node:assert/strict";
import fc from "fast-check";
import {
  formatWheelFilename,
  InvalidFilenameError,
  parseDistFilename,
  parseSdistFilename,
  parseWheelFilename,
} from "./filename.ts";
import { normalizeName } from "./name.ts";
import { Version } from "./version.ts";
import { pythonImports, runPythonJson } from "./_helpers_testing.ts";

function rejects(f: () => unknown, code: string): void {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof InvalidFilenameError, String(e));
    assert.ok(e instanceof SyntaxError);
    assert.equal(e.name, "InvalidFilenameError");
    assert.equal(e.code, code);
    return;
  }
  throw new Error("did not throw");
}

Deno.test("parseWheelFilename() reads name, version, build tag and expanded tags", () => {
  const w = parseWheelFilename(
    "numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
  );
  assert.equal(w.kind, "wheel");
  assert.equal(w.name, "numpy");
  assert.equal(w.normalizedName, "numpy");
  assert.equal(w.version.toString(), "2.1.0");
  assert.equal(w.buildTag, undefined);
  assert.deepEqual(w.tags, [
    "cp312-cp312-manylinux_2_17_x86_64",
    "cp312-cp312-manylinux2014_x86_64",
  ]);
  const b = parseWheelFilename("Foo.Bar-1.0_post1-12abc-py2.py3-none-any.whl");
  assert.equal(b.normalizedName, "foo-bar");
  assert.equal(b.version.toString(), "1.0.post1");
  assert.deepEqual(b.buildTag, [12, "abc"]);
});

Deno.test("parseWheelFilename() rejects what packaging rejects", () => {
  for (
    const bad of [
      "foo-1.0-py3-none-any.zip",
      "foo-1.0.whl",
      "foo-1.0-py3-none.whl",
      "foo-1.0-1-2-py3-none-any.whl",
      "foo__bar-1.0-py3-none-any.whl",
      "foo#bar-1.0-py3-none-any.whl",
      "foo bar-1.0-py3-none-any.whl",
      "foo-1.0-abc-py3-none-any.whl",
      "foo-one-py3-none-any.whl",
      "foo-1.0--py3-none-any.whl",
    ]
  ) {
    rejects(() => parseWheelFilename(bad), "invalid-wheel-filename");
  }
});

Deno.test("parseWheelFilename() keeps the version error as the cause", () => {
  try {
    parseWheelFilename("foo-not.a.version-py3-none-any.whl");
    throw new Error("did not throw");
  } catch (e) {
    assert.ok(e instanceof InvalidFilenameError);
    assert.ok(e.cause instanceof SyntaxError);
    assert.match(e.message, /not\.a\.version/);
  }
});

Deno.test("parseSdistFilename() splits at the last dash without a project", () => {
  const s = parseSdistFilename("Django-4.2.1.tar.gz");
  assert.equal(s.kind, "sdist");
  assert.equal(s.name, "Django");
  assert.equal(s.normalizedName, "django");
  assert.equal(s.version.toString(), "4.2.1");
  assert.equal(s.extension, ".tar.gz");
  assert.equal(parseSdistFilename("zope.interface-5.0.ZIP").extension, ".zip");
  assert.equal(parseSdistFilename("a-1.tar.bz2").extension, ".tar.bz2");
  assert.equal(parseSdistFilename("a-1.tar.xz").extension, ".tar.xz");
  assert.equal(parseSdistFilename("a-1.tgz").extension, ".tgz");
  assert.equal(parseSdistFilename("a-1.tar").extension, ".tar");
});

Deno.test("parseSdistFilename() splits after the project's name when it is given, as pip does", () => {
  const s = parseSdistFilename("aws-adfs-ebsco-0.3.7-1.tar.gz", "AWS.adfs_ebsco");
  assert.equal(s.name, "aws-adfs-ebsco");
  assert.equal(s.version.toString(), "0.3.7.post1");
  // Without the project, the last dash wins, as in packaging.
  const p = parseSdistFilename("aws-adfs-ebsco-0.3.7-1.tar.gz");
  assert.equal(p.name, "aws-adfs-ebsco-0.3.7");
  assert.equal(p.version.toString(), "1");
});

Deno.test("parseSdistFilename() rejects unknown extensions, bad versions and other projects", () => {
  rejects(() => parseSdistFilename("foo-1.0.rpm"), "invalid-sdist-filename");
  rejects(() => parseSdistFilename(".tar.gz"), "invalid-sdist-filename");
  rejects(() => parseSdistFilename("foo.tar.gz"), "invalid-sdist-filename");
  rejects(() => parseSdistFilename("-1.0.tar.gz"), "invalid-sdist-filename");
  rejects(() => parseSdistFilename("foo-bar.tar.gz"), "invalid-sdist-filename");
  rejects(() => parseSdistFilename("foo-1.0.tar.gz", "bar"), "invalid-sdist-filename");
});

Deno.test("parseDistFilename() dispatches on the extension and rejects other files", () => {
  assert.equal(parseDistFilename("a-1-py3-none-any.whl").kind, "wheel");
  assert.equal(parseDistFilename("a-1.zip").kind, "sdist");
  rejects(() => parseDistFilename("a-1.win32.exe"), "invalid-sdist-filename");
  rejects(() => parseDistFilename("a-1-py2.7.egg"), "invalid-sdist-filename");
  rejects(() => parseDistFilename("a-1-py3-none.whl"), "invalid-wheel-filename");
});

// ---------------------------------------------------------------------------------------------
// Laws

const nameArb = fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9._-]{0,10}[A-Za-z0-9])?$/);
const versionArb = fc.tuple(
  fc.array(fc.nat({ max: 30 }), { minLength: 1, maxLength: 4 }),
  fc.option(fc.tuple(fc.constantFrom("a", "b", "rc"), fc.nat({ max: 9 })), { nil: undefined }),
  fc.option(fc.nat({ max: 9 }), { nil: undefined }),
  fc.option(fc.stringMatching(/^[a-z0-9]{1,5}(\.[a-z0-9]{1,5})?$/), { nil: undefined }),
).map(([release, pre, post, local]) =>
  release.join(".") + (pre === undefined ? "" : pre.join("")) +
  (post === undefined ? "" : `.post${post}`) + (local === undefined ? "" : `+${local}`)
);
const tagPartArb = fc.array(fc.stringMatching(/^[a-z0-9_]{1,8}$/), { minLength: 1, maxLength: 3 });
const buildArb = fc.option(fc.tuple(fc.nat({ max: 999 }), fc.stringMatching(/^[a-z_]{0,4}$/)), {
  nil: undefined,
});

Deno.test("parseWheelFilename(formatWheelFilename(x)) gives x back (law)", () => {
  fc.assert(
    fc.property(
      nameArb,
      versionArb,
      buildArb,
      tagPartArb,
      tagPartArb,
      tagPartArb,
      (name, version, build, interps, abis, plats) => {
        const tags = `${interps.join(".")}-${abis.join(".")}-${plats.join(".")}`;
        const filename = formatWheelFilename({
          name,
          version,
          tags,
          ...(build === undefined ? {} : { buildTag: build }),
        });
        const w = parseWheelFilename(filename);
        assert.equal(w.normalizedName, normalizeName(name));
        assert.equal(w.version.compare(Version.parse(version)), 0);
        assert.deepEqual(w.buildTag, build);
        const expected = new Set<string>();
        for (const i of interps) {
          for (const a of abis) for (const p of plats) expected.add(`${i}-${a}-${p}`);
        }
        assert.deepEqual(w.tags, [...expected]);
        assert.equal(w.filename, filename);
      },
    ),
  );
});

Deno.test("parseSdistFilename() with the project recovers the name and version it was built from (law)", () => {
  fc.assert(
    fc.property(
      nameArb,
      versionArb,
      fc.constantFrom(".tar.gz", ".zip", ".tar.bz2", ".tgz"),
      (name, version, ext) => {
        const s = parseSdistFilename(`${name}-${version}${ext}`, name.toUpperCase());
        assert.equal(s.name, name);
        assert.equal(s.version.compare(Version.parse(version)), 0);
        assert.equal(s.extension, ext);
      },
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// Real data and differential tests against packaging / pip

const DATA = new URL("../tests/data/third_party/simple-api/pypi-simple/data/", import.meta.url);

interface Listed {
  page: string;
  project: string;
  filename: string;
}

async function listedFiles(): Promise<Listed[]> {
  const out: Listed[] = [];
  const walk = async (dir: URL, rel: string): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) {
        await walk(new URL(`${entry.name}/`, dir), `${rel}${entry.name}/`);
        continue;
      }
      const text = entry.name.endsWith(".html") || entry.name.endsWith(".json")
        ? await Deno.readTextFile(new URL(entry.name, dir))
        : undefined;
      if (text === undefined) continue;
      if (entry.name.endsWith(".json")) {
        const page = JSON.parse(text) as { name?: string; files?: { filename: string }[] };
        for (const f of page.files ?? []) {
          out.push({ page: rel + entry.name, project: page.name ?? "", filename: f.filename });
        }
        continue;
      }
      // Project pages say "links for <project>" in their title; index pages list no files.
      const title = /<title>[^<]*links for ([^<]+)<\/title>/i.exec(text);
      if (title === null) continue;
      for (const m of text.matchAll(/<a\s[^>]*href="([^"#]+)(?:#[^"]*)?"/g)) {
        const filename = decodeURIComponent((m[1] ?? "").split("/").at(-1) ?? "");
        out.push({ page: rel + entry.name, project: title[1]?.trim() ?? "", filename });
      }
    }
  };
  await walk(DATA, "");
  return out;
}

Deno.test("every file listed in the simple-api fixtures parses under its project", async () => {
  const files = await listedFiles();
  assert.ok(files.length >= 30, `only ${files.length} files found`);
  for (const f of files) {
    assert.ok(f.project !== "", f.page);
    const d = parseDistFilename(f.filename, f.project);
    assert.equal(d.normalizedName, normalizeName(f.project), `${f.page}: ${f.filename}`);
    assert.ok(d.filename === f.filename);
  }
  const legacy = files.find((f) => f.filename === "aws-adfs-ebsco-0.3.6-2.tar.gz");
  assert.ok(legacy !== undefined);
  assert.equal(
    parseDistFilename(legacy.filename, legacy.project).version.toString(),
    "0.3.6.post2",
  );
});

const HAVE_PYTHON = await pythonImports([
  "packaging.utils",
  "pip._internal.index.package_finder",
]);
if (!HAVE_PYTHON) {
  console.warn(
    "SKIPPING differential filename tests: python3 with `packaging` and pip is not available",
  );
}

const ORACLE = String.raw`
import json, sys
from packaging.utils import parse_wheel_filename, canonicalize_name
from packaging.version import Version, InvalidVersion
from pip._internal.index.package_finder import _extract_version_from_fragment

def wheel(f):
    try:
        name, ver, build, tags = parse_wheel_filename(f)
    except Exception:
        return None
    return {"name": name, "version": str(ver), "build": list(build) if build else None,
            "tags": sorted(str(t) for t in tags)}

def sdist(f, project):
    for ext in (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".zip"):
        if f.lower().endswith(ext):
            stem = f[: -len(ext)]
            break
    else:
        return None
    v = _extract_version_from_fragment(stem, canonicalize_name(project))
    if v is None:
        return None
    try:
        return {"name": canonicalize_name(project), "version": str(Version(v))}
    except InvalidVersion:
        return None

out = []
for c in json.load(sys.stdin):
    out.append(wheel(c["filename"]) if c["filename"].endswith(".whl") else sdist(c["filename"], c["project"]))
json.dump(out, sys.stdout)
`;

function ours(filename: string, project: string): unknown {
  try {
    const d = parseDistFilename(filename, project);
    return d.kind === "wheel"
      ? {
        name: d.normalizedName,
        version: d.version.toString(),
        build: d.buildTag === undefined ? null : [...d.buildTag],
        tags: [...d.tags].sort(),
      }
      : { name: d.normalizedName, version: d.version.toString() };
  } catch (e) {
    if (e instanceof InvalidFilenameError) return null;
    throw e;
  }
}

Deno.test({
  name: "fixture and generated filenames parse as packaging (wheels) and pip (sdists) parse them",
  ignore: !HAVE_PYTHON,
  fn: async () => {
    const cases: { filename: string; project: string }[] = (await listedFiles())
      .map(({ filename, project }) => ({ filename, project }));
    // Generated near-misses: odd names, versions, build tags and tag sets.
    const piece = fc.constantFrom(
      "foo",
      "Foo.Bar",
      "foo_bar",
      "foo__bar",
      "foo-bar",
      "1.0",
      "1.0.post1",
      "1.0-1",
      "1.0+local.7",
      "1!2.0rc1",
      "v1.0",
      "1.0.0a",
      "not_a_version",
      "12",
      "3abc",
      "abc",
      "py3",
      "py2.py3",
      "none",
      "abi3",
      "any",
      "cp311.CP312",
      "win_amd64",
      "macosx_11_0_arm64.macosx_10_9_x86_64",
    );
    const generated = fc.sample(
      fc.tuple(
        fc.array(piece, { minLength: 2, maxLength: 7 }),
        fc.constantFrom(".whl", ".tar.gz", ".zip", ".tar.bz2"),
        fc.constantFrom("foo", "foo-bar", "Foo.Bar"),
      ),
      { numRuns: 600, seed: 20240611 },
    );
    for (const [pieces, ext, project] of generated) {
      cases.push({ filename: pieces.join("-") + ext, project });
    }
    const expected = await runPythonJson<unknown[]>(ORACLE, cases);
    // The sample must exercise both sides: enough accepted names, enough rejected ones.
    const accepted = expected.filter((e) => e !== null).length;
    assert.ok(
      accepted > 60 && cases.length - accepted > 60,
      `accepted ${accepted} of ${cases.length}`,
    );
    cases.forEach((c, i) => {
      assert.deepEqual(ours(c.filename, c.project), expected[i], JSON.stringify(c));
    });
  },
});

Deno.test("a filename with a path separator, a colon or a control character is unsafe, wherever it is", () => {
  for (
    const f of [
      "evil-1.8-py3-none-any.sub/y.whl",
      "evil-1.8-py3-none-any.sub\\y.whl",
      "evil-1.8-py3-none-any\u0000.whl",
      "evil-1.8-py3-none-c:any.whl",
      "evil-1.8\n-py3-none-any.whl",
      "../evil-1.8.tar.gz",
      "evil-1.8.tar.gz\u001b[2J",
    ]
  ) {
    rejects(() => parseDistFilename(f), "unsafe-filename");
  }
  assert.throws(
    () => parseWheelFilename("evil-1.8-py3-none-any.sub/y.whl"),
    /Invalid filename "evil-1\.8-py3-none-any\.sub\/y\.whl": it contains a path separator/,
  );
  assert.throws(() => parseSdistFilename("evil-1.8.tar.gz\u0007"), /control character U\+0007/);
});
