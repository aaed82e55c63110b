#!/usr/bin/env bash
# Installs what tinygen needs on Debian 12 (run as root, or with sudo):
#   - GCC-ARM and newlib, make (Debian), QEMU >= 9 (bookworm-backports)
#   - tinygen and its Python dependencies in .venv beside this script's repo
# Usage: bash scripts/setup.sh          # what the main job needs
#        bash scripts/setup.sh --dev    # plus TensorFlow, pytest, hypothesis, clang/libFuzzer, chromium
# Re-running is fast: each step checks what is already there.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extras=""
for arg in "$@"; do
    case "$arg" in
        --dev) extras="[dev]" ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown option '$arg' (use --dev or nothing)" >&2; exit 2 ;;
    esac
done

say() { printf '[setup] %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

qemu_ok() {
    command -v qemu-system-arm >/dev/null 2>&1 || return 1
    local major
    major=$(qemu-system-arm --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p' | head -n1)
    [ "${major:-0}" -ge 9 ]
}
newlib_ok() { [ -f /usr/lib/arm-none-eabi/newlib/libc.a ] || [ -f /usr/lib/arm-none-eabi/lib/libc.a ]; }

apt_updated=""
apt_update() { [ -n "$apt_updated" ] || { as_root apt-get update -q; apt_updated=1; }; }
apt_install() {
    apt_update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

if command -v arm-none-eabi-gcc >/dev/null 2>&1 && newlib_ok; then
    say "GCC-ARM present: $(arm-none-eabi-gcc --version | head -n1)"
else
    say "installing GCC-ARM and newlib"
    apt_install gcc-arm-none-eabi libnewlib-arm-none-eabi
fi

# make rebuilds an exported build folder (tinygen build --export) without SCons.
if command -v make >/dev/null 2>&1; then
    say "make present: $(make --version | head -n1)"
else
    say "installing make"
    apt_install make
fi

# C++ for the TFLM runtime (--runtime tflm): the host's g++ and the C++
# standard library for arm-none-eabi-g++ (gcc-arm-none-eabi ships no C++ headers).
cxx_ok() { echo '#include <cstdint>' | "$@" -std=c++17 -x c++ -fsyntax-only - >/dev/null 2>&1; }
if command -v g++ >/dev/null 2>&1 && cxx_ok arm-none-eabi-g++ -mcpu=cortex-m4 -mthumb; then
    say "C++ compilers present (g++, arm-none-eabi-g++ with libstdc++)"
else
    say "installing g++ and libstdc++ for arm-none-eabi (the TFLM runtime is C++)"
    apt_install g++ libstdc++-arm-none-eabi-newlib
fi

# The Debian mirror this machine already uses for bookworm itself (deb822
# .sources or one-line sources.list), so backports come from the same place,
# a local mirror included; the public one only when none is configured.
debian_mirror() {
    local url
    url=$(awk '
        /^[[:space:]]*#/ { next }
        /^URIs:/ { uris = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") { print uris; exit } }
        /^deb[[:space:]]/ {
            n = 2; if ($2 ~ /^\[/) { while (n <= NF && $n !~ /\]$/) n++; n++ }
            if ($(n + 1) == "bookworm") { print $n; exit }
        }
        /^[[:space:]]*$/ { uris = "" }
    ' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n1)
    echo "${url:-http://deb.debian.org/debian}"
}

if qemu_ok; then
    say "QEMU present: $(qemu-system-arm --version | head -n1)"
else
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    if [ "$codename" = "bookworm" ]; then
        src=/etc/apt/sources.list.d/bookworm-backports.sources
        if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
            mirror=$(debian_mirror)
            say "adding bookworm-backports from $mirror (QEMU >= 9 emulates the B-L475E-IOT01A)"
            printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" \
                | as_root tee "$src" >/dev/null
            apt_updated=""
        fi
        say "installing QEMU from bookworm-backports"
        apt_install -t bookworm-backports qemu-system-arm
    else
        say "installing QEMU"
        apt_install qemu-system-arm
    fi
    qemu_ok || { echo "setup.sh: QEMU >= 9 is needed; got $(qemu-system-arm --version | head -n1)" >&2; exit 1; }
fi

# --dev: clang and libFuzzer for the harness fuzz target (benchmarks/fuzz.py).
if [ -n "$extras" ]; then
    if command -v clang >/dev/null 2>&1 \
        && [ -f "$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a)" ]; then
        say "clang with libFuzzer present: $(clang --version | head -n1)"
    else
        say "installing clang and libFuzzer (fuzz target of the harness)"
        apt_install clang libclang-rt-dev
    fi
    # Headless Chromium: the test that opens tinygen report's HTML page.
    if command -v chromium >/dev/null 2>&1; then
        say "chromium present: $(chromium --version 2>/dev/null | head -n1)"
    else
        say "installing chromium (headless check of tinygen report pages)"
        apt_install chromium
    fi
fi

venv="$repo/.venv"
if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv"
    python3 -m venv "$venv"
fi
stamp="$venv/.tinygen-installed"
want="$(sha256sum "$repo/pyproject.toml" | cut -d' ' -f1)$extras"
have="$(cat "$stamp" 2>/dev/null || true)"
# A --dev install also satisfies a plain one.
if [ "$have" != "$want" ] && [ "$have" != "$want[dev]" ]; then
    say "installing tinygen$extras into $venv (first time: a few minutes)"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q -e "$repo$extras"
    echo "$want" > "$stamp"
else
    say "Python packages up to date in $venv"
fi
say "ready: $venv/bin/tinygen"
