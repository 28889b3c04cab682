/** Help text of `wheelhouse download`. */
export const DOWNLOAD_HELP = `Usage: wheelhouse download [OPTIONS] [REQUIREMENT...]
       wheelhouse download --lock pylock.toml|uv.lock [OPTIONS]

Resolve requirements for one or more targets and download the wheels and sdists into a folder
that "pip install --no-index --find-links DIR" and "uv pip install --find-links DIR" use offline.

Inputs:
  -r, --requirement FILE    requirements file (pip syntax) or pyproject.toml; repeatable
  -c, --constraint FILE     constraints file; repeatable
  --project DIR             use DIR/pyproject.toml ([project].dependencies)
  --extra NAME              add an optional-dependencies extra; repeatable
  --all-extras              add every extra
  --group NAME              add a PEP 735 dependency group; repeatable
  --lock FILE               download exactly the files a pylock.toml or uv.lock lists
  --all-platforms           with --lock: every file of the lock, for every platform
  --no-dev                  with a uv.lock: leave out the dev group
  --universal               resolve once for every environment (every platform, every Python of
                            --python-version or the project's requires-python) and download every
                            file any of them installs; requirements.txt and pylock.toml carry
                            markers. --python-platform narrows the platforms downloaded
  --environment MARKER      with --universal: only environments where MARKER holds; repeatable

Output:
  -d, --dest DIR            destination folder (default ./wheelhouse)
  --simple-index            also write a PEP 503 simple/ tree for static web servers
  --prune                   remove files an earlier run put in the folder that this one does
                            not want (they are kept and listed otherwise)
  --dry-run                 resolve and print the plan; download nothing
  --report FILE             write a JSON report (- for stdout)

Indexes:
  -i, --index-url URL       base URL of the package index (default https://pypi.org/simple/)
  --extra-index-url URL     more indexes; repeatable
  -f, --find-links PATH|URL a folder or a flat HTML page of files; repeatable
  --no-index                use only --find-links
  --index-strategy S        first-index (default) or unsafe-best-match
  Credentials come from the URL, ~/.netrc ($NETRC), or WHEELHOUSE_INDEX_<HOST>_USERNAME and
  WHEELHOUSE_INDEX_<HOST>_PASSWORD (host upper-cased, other characters as _).

Resolution:
  --no-deps                 do not download dependencies
  --build-wheels            build a wheel of each sdist for the targets this host can build for,
                            and put it beside the sdist (building runs the package's code)
  --build-deps              also download each sdist's build requirements, so the folder
                            builds it offline
  --no-build                never run build code; fail, listing what would need a build
  --no-build-isolation      build with the interpreter's own packages
  --python PATH             the interpreter that builds (default python3)
  --pre                     allow pre-releases
  --only-binary LIST        names, :all: or :none:; never use sdists for them
  --no-binary LIST          names, :all: or :none:; never use wheels for them
  --prefer-binary           prefer older wheels over newer sdists
  --require-hashes          every package needs a --hash in the requirement files
  --exclude-newer DATE      ignore files uploaded after DATE (2024-03-01 or a timestamp)

Targets (markers are evaluated for each target, never for this machine):
  --python-platform NAME    uv-style preset, repeatable: linux, macos, windows,
                            x86_64-manylinux_2_28, aarch64-apple-darwin, x86_64-pc-windows-msvc, ...
  --platform TAG            pip-style platform tag, repeatable (manylinux2014_x86_64, win_amd64)
  --python-version X.Y      repeatable; each multiplies the targets
  --implementation CODE     cp, pp or py
  --abi ABI                 repeatable
  With none of these, the target is this machine.

Network and cache:
  --offline                 use only the cache; say exactly what is missing
  --cache-dir DIR           cache folder (default: $WHEELHOUSE_CACHE_DIR or the OS cache folder)
  --no-cache                use a throw-away cache for this run
  --uv-cache-dir DIR        experimental: take wheels an existing uv cache holds (rebuilt from
                            uv's unpacked trees, so not byte-identical; never used where hashes
                            are required)
  --refresh                 revalidate cached index pages
  --concurrency N           transfers at once (default 16)
  --retries N               retries per transfer (default 5)
  --timeout SECONDS         connect and idle-read timeout (default 30)

Display:
  -q, --quiet               only errors
  -v, --verbose             one line per file
  --progress auto|on|off    progress bars (auto: on a terminal)
`;
