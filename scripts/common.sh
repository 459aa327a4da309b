# Sourced by the scripts in this directory: the checkout's root, its Python
# virtual environment, messages, and the one way the extension is built.
#
# STATUSZ_PYTHON  the interpreter the virtual environment is made from
#                 (default python3; CI sets /usr/bin/python3, Debian's)
# STATUSZ_VENV    where the virtual environment lives (default .venv in the
#                 checkout); the scripts never install into any other Python
# STATUSZ_JOBS    build parallelism (default 2)
statusz_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$statusz_root"
STATUSZ_PYTHON="${STATUSZ_PYTHON:-python3}"
STATUSZ_VENV="${STATUSZ_VENV:-$statusz_root/.venv}"
STATUSZ_JOBS="${STATUSZ_JOBS:-2}"
export CMAKE_BUILD_PARALLEL_LEVEL="$STATUSZ_JOBS"
venv_python="$STATUSZ_VENV/bin/python"

say() { printf '== [%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# The virtual environment must exist (scripts/setup makes it).
require_venv() {
  [ -x "$venv_python" ] || die "no virtual environment at $STATUSZ_VENV: run scripts/setup (or unset STATUSZ_SKIP_SETUP)"
}

# Runs scripts/setup unless STATUSZ_SKIP_SETUP=1, then checks the venv.
setup_unless_skipped() {
  if [ "${STATUSZ_SKIP_SETUP:-0}" != 1 ]; then
    bash "$statusz_root/scripts/setup" || die "scripts/setup failed (see above)"
  fi
  require_venv
}

# Builds the extension (CMake build kept in build/python, so later builds are
# incremental; ccache when installed) and installs the package into the venv.
install_package() {
  require_venv
  local launcher=()
  if command -v ccache >/dev/null; then
    launcher=(--config-settings=cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  say "Python: building the extension and installing statusz into $STATUSZ_VENV (about 2 min on 2 cores the first time, seconds when nothing changed)"
  local start=$SECONDS
  "$venv_python" -m pip install -q --disable-pip-version-check --no-build-isolation \
    --config-settings=build-dir=build/python "${launcher[@]}" . ||
    die "building or installing the Python package failed (see above)"
  "$venv_python" -c "import statusz" ||
    die "statusz does not import from $venv_python after the install"
  say "Python: statusz installed ($((SECONDS - start)) s)"
}
