// The Python the front end runs, as text: written into the cache (named after its hash, so a new
// version of wheelhouse never runs an old copy) and started with the interpreter being built for.
// Kept compatible with Python 3.6+: the oldest interpreter someone might still build for.

/**
 * Runs one PEP 517 hook: `python RUNNER HOOK CONTROL_DIR`, started in the source tree.
 * CONTROL_DIR/input.json is `{"backend": "pkg.mod:obj", "backend_path": [abs...], "kwargs": {...}}`;
 * the outcome goes to CONTROL_DIR/output.json as `{"status": ..., ...}`. Whatever the backend
 * prints goes to this process's stdout and stderr, which the caller keeps as the build log.
 */
export const HOOK_RUNNER_SCRIPT = `\
"""wheelhouse: run one PEP 517 hook of a build backend (see build/_scripts.ts)."""
import importlib
import json
import os
import sys
import traceback


class NotFromBackendPath(Exception):
    pass


def record(control_dir, outcome):
    # Written whole or not at all: a process killed half-way leaves no result, not half of one.
    final = os.path.join(control_dir, "output.json")
    partial = final + ".partial"
    with open(partial, "w", encoding="utf-8") as stream:
        json.dump(outcome, stream)
    os.replace(partial, final)


def is_within(path, folders):
    real = os.path.normcase(os.path.realpath(path))
    for folder in folders:
        top = os.path.normcase(os.path.realpath(folder))
        if real == top or real.startswith(top.rstrip(os.sep) + os.sep):
            return True
    return False


def load_backend(spec, backend_path):
    module_name, _, object_path = spec.partition(":")
    module_name = module_name.strip()
    if backend_path:
        # PEP 517: in-tree backend folders go first, before anything else that could be imported.
        sys.path[:0] = backend_path
    module = importlib.import_module(module_name)
    if backend_path:
        origin = getattr(module, "__file__", None)
        if origin is None or not is_within(origin, backend_path):
            raise NotFromBackendPath(
                "%s was imported from %s, not from backend-path" % (module_name, origin)
            )
    backend = module
    for attribute in filter(None, object_path.strip().split(".")):
        backend = getattr(backend, attribute)
    return backend


def describe(error):
    text = str(error)
    return type(error).__name__ + (": " + text if text else "")


def main():
    hook, control_dir = sys.argv[1], sys.argv[2]
    with open(os.path.join(control_dir, "input.json"), encoding="utf-8") as stream:
        request = json.load(stream)
    try:
        backend = load_backend(request["backend"], request.get("backend_path") or [])
    except NotFromBackendPath as error:
        record(control_dir, {"status": "backend-invalid", "message": str(error)})
        return 1
    except BaseException as error:
        traceback.print_exc()
        record(control_dir, {"status": "backend-unavailable", "message": describe(error)})
        return 1
    function = getattr(backend, hook, None)
    if function is None:
        record(control_dir, {"status": "hook-missing"})
        return 0
    try:
        value = function(**request.get("kwargs", {}))
    except BaseException as error:
        # PEP 517 lets build_sdist refuse with the backend's own UnsupportedOperation class.
        if type(error).__name__ == "UnsupportedOperation":
            record(control_dir, {"status": "unsupported", "message": describe(error)})
            return 1
        exit_code = 1
        if isinstance(error, SystemExit):
            # setup() reports its errors by raising SystemExit("error: ..."); keep a numeric code.
            if isinstance(error.code, int) and error.code != 0:
                exit_code = error.code
            elif error.code is not None and not isinstance(error.code, int):
                sys.stderr.write(str(error.code) + "\\n")
        else:
            traceback.print_exc()
        record(control_dir, {"status": "hook-failed", "message": describe(error)})
        return exit_code
    record(control_dir, {"status": "ok", "value": value})
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)
`;

/**
 * The `sitecustomize.py` of an isolated build environment, in `<env>/boot/`, which is the only
 * entry of `PYTHONPATH`. Every Python process of a build imports it at start-up (the hook runner
 * and whatever the backend starts, since they inherit the environment), so each sees the standard
 * library and `<env>/site` and nothing of the interpreter's own site-packages.
 */
export const SITE_CUSTOMIZE_SCRIPT = `\
"""wheelhouse build isolation (see build/_scripts.ts): standard library + <env>/site only."""
import os
import site
import sys


def _isolate():
    boot = os.path.dirname(os.path.abspath(__file__))
    env_site = os.path.join(os.path.dirname(boot), "site")

    def real(path):
        return os.path.normcase(os.path.realpath(path))

    def inside(path, folders):
        return any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)

    hidden = []
    if hasattr(site, "getsitepackages"):
        hidden.extend(site.getsitepackages())
    if hasattr(site, "getusersitepackages"):
        hidden.append(site.getusersitepackages())
    hidden = [real(p) for p in hidden]
    # The standard library lives under the prefixes; anything else on sys.path at this point came
    # from a site-packages folder or a .pth file in one.
    homes = [real(p) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}]
    kept, dropped = [], []
    for entry in sys.path:
        where = real(entry) if entry else entry
        if not entry or where == real(boot) or (inside(where, homes) and not inside(where, hidden)):
            kept.append(entry)
        else:
            dropped.append(where)
    sys.path[:] = kept
    if dropped:
        # A .pth file may already have imported a module from a hidden folder (setuptools'
        # distutils hack installs a meta path finder that way): forget those modules and finders.
        forgotten = set()
        for name, module in list(sys.modules.items()):
            origin = getattr(module, "__file__", None)
            if origin and inside(real(origin), dropped):
                del sys.modules[name]
                forgotten.add(name)
        sys.meta_path[:] = [
            finder for finder in sys.meta_path
            if getattr(type(finder), "__module__", None) not in forgotten
            and getattr(finder, "__module__", None) not in forgotten
        ]
        sys.path_importer_cache.clear()
    # addsitedir also runs the environment's own .pth files (setuptools ships one).
    site.addsitedir(env_site)


_isolate()
del _isolate
`;

/** Prints one JSON object with what the front end needs to know about the interpreter. */
export const INTERPRETER_PROBE_SCRIPT = `\
import json, os, platform, struct, sys, sysconfig
def version_text(v):
    text = "%d.%d.%d" % (v.major, v.minor, v.micro)
    if v.releaselevel != "final":
        text += {"alpha": "a", "beta": "b", "candidate": "rc"}.get(v.releaselevel, "") + str(v.serial)
    return text
impl = sys.implementation
libc = platform.libc_ver() if sys.platform.startswith("linux") else ("", "")
print(json.dumps({
    "executable": sys.executable,
    "version": platform.python_version(),
    "major": sys.version_info[0],
    "minor": sys.version_info[1],
    "implementation": impl.name,
    "implementationVersion": version_text(impl.version),
    "platform": sysconfig.get_platform(),
    "soabi": sysconfig.get_config_var("SOABI"),
    "extSuffix": sysconfig.get_config_var("EXT_SUFFIX"),
    "gilDisabled": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "pointerBits": struct.calcsize("P") * 8,
    "libc": [libc[0] or "", libc[1] or ""],
    "markers": {
        "implementation_name": impl.name,
        "implementation_version": version_text(impl.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": "%d.%d" % sys.version_info[:2],
        "sys_platform": sys.platform,
    },
}))
`;
