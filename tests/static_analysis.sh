#!/usr/bin/env bash
# Static analysis of our code; exits non-zero on any finding.
#   tests/static_analysis.sh BUILD_DIR
# BUILD_DIR must hold compile_commands.json (any configured build: CMAKE_EXPORT_COMPILE_COMMANDS is on).
# Steps: clang-format on every tracked .cpp/.h, clang-tidy (.clang-tidy at the root, every warning an
# error) over core/, app/ and ui/, cppcheck over core/, app/ and ui/. Tools can be overridden with
# CLANG_FORMAT, CLANG_TIDY and CPPCHECK. ui/ needs a build configured with TFREEZE_GUI=ON (the
# default) for its compile commands (Qt's include paths); CI passes its GUI build.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
buildDir=$(cd "$1" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
if [[ ! -f "$buildDir/compile_commands.json" ]]; then
    echo "static_analysis.sh: $buildDir/compile_commands.json is missing; configure with CMake first" >&2
    exit 2
fi

# Without ui/'s compile commands clang-tidy would guess them and miss Qt's include paths.
if ! grep -q -E '"file": *"[^"]*/ui/[^"]*\.cpp"' "$buildDir/compile_commands.json"; then
    echo "static_analysis.sh: $buildDir has no compile commands for ui/; configure it with -DTFREEZE_GUI=ON" >&2
    exit 2
fi

clangFormat=${CLANG_FORMAT:-clang-format}
clangTidy=${CLANG_TIDY:-clang-tidy}
cppcheck=${CPPCHECK:-cppcheck}
jobs=$(nproc 2>/dev/null || echo 2)

# Files left out of clang-tidy and cppcheck (none at present; each entry needs a reason).
excluded=()
isExcluded() {
    local file
    for file in "${excluded[@]}"; do
        [[ "$1" == "$file" ]] && return 0
    done
    return 1
}

# Translation units that include LibTorch (directly or through our headers) are left out of
# clang-tidy: parsing LibTorch's headers costs clang-tidy about 80 s of CPU per file, which would
# make CI's analysis longer than the whole test run. The compiler's -Wall -Wextra and cppcheck
# still cover them; TFREEZE_TIDY_TORCH=1 includes them (for a local, patient run).
declare -A includesTorchMemo=()
includesTorch() {
    local file=$1
    if [[ -n "${includesTorchMemo[$file]:-}" ]]; then
        [[ "${includesTorchMemo[$file]}" == yes ]]
        return
    fi
    includesTorchMemo[$file]=no # breaks include cycles
    local answer=no header
    if grep -q -E '^#include <torch/' "$file"; then
        answer=yes
    else
        while IFS= read -r header; do
            if [[ -f "$header" ]] && includesTorch "$header"; then
                answer=yes
                break
            fi
        done < <(sed -n -E 's/^#include "(core\/[^"]+)".*/\1/p' "$file")
    fi
    includesTorchMemo[$file]=$answer
    [[ $answer == yes ]]
}

failed=0

echo "== clang-format"
mapfile -t formatFiles < <(git ls-files -- '*.cpp' '*.h')
if ! "$clangFormat" --dry-run --Werror "${formatFiles[@]}"; then
    failed=1
fi

echo "== clang-tidy"
# Only files this build compiles: a file without a compile command (an engine source in a build with
# TFREEZE_ENGINE=OFF) would be analysed with guessed flags and fail on them.
mapfile -t compiledFiles < <(sed -n -E 's|^ *"file": *"'"$root"'/([^"]+)".*|\1|p' "$buildDir/compile_commands.json" | sort -u)
declare -A isCompiled=()
for file in "${compiledFiles[@]}"; do
    isCompiled[$file]=1
done
tidyFiles=()
notCompiled=()
while IFS= read -r file; do
    isExcluded "$file" && continue
    # Before the compile-command check: the engine's torch sources are compiled as unity files, so
    # they have no compile command of their own (TFREEZE_TIDY_TORCH=1 needs -DTFREEZE_UNITY=OFF).
    if [[ "${TFREEZE_TIDY_TORCH:-0}" != 1 ]] && includesTorch "$file"; then
        continue
    fi
    if [[ -z "${isCompiled[$file]:-}" ]]; then
        notCompiled+=("$file")
        continue
    fi
    tidyFiles+=("$file")
done < <(git ls-files --cached --others --exclude-standard -- 'core/*.cpp' 'app/*.cpp' 'ui/*.cpp' | sort -u)
if [[ ${#notCompiled[@]} -gt 0 ]]; then
    echo "not compiled in $buildDir, left to a build that compiles them: ${notCompiled[*]}"
fi
# The engine's precompiled LibTorch header is GCC's: clang-tidy gets a copy of the compile
# database without it (it would otherwise parse all of LibTorch for every engine file).
tidyDb=$(mktemp -d)
trap 'rm -rf "$tidyDb"' EXIT
sed -E 's/ -Winvalid-pch//g; s/ -include [^ ]*cmake_pch\.hxx//g' "$buildDir/compile_commands.json" >"$tidyDb/compile_commands.json"
# One clang-tidy per file, in parallel; each file's output is printed in one piece, without the
# "N warnings generated." lines that count warnings in headers outside HeaderFilterRegex.
export tidyDb clangTidy
if ! printf '%s\0' "${tidyFiles[@]}" | xargs -0 -n 1 -P "$jobs" bash -c '
    output=$("$clangTidy" -p "$tidyDb" --quiet --warnings-as-errors="*" "$1" 2>&1) && status=0 || status=$?
    output=$(grep -v -E "^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$" <<<"$output" || true)
    [[ -n "$output" ]] && printf "%s\n" "$output"
    exit "$status"' _; then
    failed=1
fi

echo "== cppcheck"
cppcheckExcludes=()
for file in "${excluded[@]}"; do
    cppcheckExcludes+=(-i "$file")
done
# --library=qt: Qt's macros (Q_OBJECT, signals, emit, foreach) instead of Qt's headers.
if ! "$cppcheck" --enable=warning,performance,portability --std=c++17 --library=qt --inline-suppr \
    --error-exitcode=1 --quiet -j "$jobs" -I "$root" "${cppcheckExcludes[@]}" core app ui; then
    failed=1
fi

if [[ $failed -ne 0 ]]; then
    echo "static_analysis.sh: findings above" >&2
    exit 1
fi
echo "static_analysis.sh: clean"
