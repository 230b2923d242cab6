#!/usr/bin/env bash
# Does the image's runtime stage hold every shared library the binary needs?
#   .ci/runtime-libraries.sh BINARY [CONTAINERFILE]
# Lists the binary's ELF NEEDED entries, recursively through the libraries
# found (ldconfig's cache, this machine = the build image's Debian release),
# resolves each file to its package with dpkg -S, and fails if a package is
# not provided by the runtime stage: its `apt-get install` list, those
# packages' dependency closure (dpkg's database), and the base image's
# packages (.ci/base-image-packages.txt, cited there).
set -euo pipefail
binary=${1:?usage: runtime-libraries.sh BINARY [CONTAINERFILE]}
containerfile=${2:-daemonset/Containerfile}
here=$(cd "$(dirname "$0")" && pwd)

# The runtime stage: everything after the last FROM; its RUN lines joined.
runtime_packages=$(awk '/^FROM /{stage=""} {stage = stage $0 "\n"} END{printf "%s", stage}' "$containerfile" \
  | sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' \
  | grep -E '^RUN .*apt-get install' \
  | sed -E 's/.*apt-get install//; s/&&.*//' | tr ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' || true)
[ -n "$runtime_packages" ] || { echo "runtime-libraries: no apt-get install list in the runtime stage of $containerfile" >&2; exit 1; }

# Dependency closure (Depends, Pre-Depends) of the runtime packages, through
# dpkg's database; every alternative that is installed counts.
declare -A allowed=() origin=()
queue=()
for p in $runtime_packages; do queue+=("$p"); origin[$p]="runtime stage"; done
while [ ${#queue[@]} -gt 0 ]; do
  p=${queue[0]}; queue=("${queue[@]:1}")
  [ -n "${allowed[$p]:-}" ] && continue
  allowed[$p]=1
  deps=$(dpkg-query -W -f='${Depends}, ${Pre-Depends}' "$p" 2>/dev/null || true)
  for d in $(echo "$deps" | tr ',|' '\n\n' | sed -E 's/\(.*\)//; s/:any//; s/ //g' | grep -v '^$' || true); do
    if [ -z "${allowed[$d]:-}" ] && dpkg-query -W "$d" >/dev/null 2>&1; then
      queue+=("$d"); [ -n "${origin[$d]:-}" ] || origin[$d]="dependency of $p"
    fi
  done
done
while read -r p; do
  [ -z "$p" ] || [ "${p:0:1}" = "#" ] && continue
  [ -n "${allowed[$p]:-}" ] || { allowed[$p]=1; origin[$p]="base image"; }
done < "$here/base-image-packages.txt"

# NEEDED, recursively.
# The loader's cache, read once. No reader in a pipe here stops early (awk's
# `exit`, `head`): under pipefail the writer's SIGPIPE would end the script.
ldcache=$(ldconfig -p)
resolve() {  # soname -> path through the loader's cache
  awk -v n="$1" '$1 == n && /x86-64|x86_64|\(libc6,/ && !found {print $NF; found = 1}' <<<"$ldcache"
}
needed() { readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
declare -A seen=() paths=()
pending=($(needed "$binary"))
while [ ${#pending[@]} -gt 0 ]; do
  name=${pending[0]}; pending=("${pending[@]:1}")
  [ -n "${seen[$name]:-}" ] && continue
  seen[$name]=1
  path=$(resolve "$name")
  paths[$name]=${path:-}
  [ -n "$path" ] && pending+=($(needed "$path"))
done

status=0
echo "runtime libraries of $binary (runtime stage of $containerfile: $(echo $runtime_packages))"
printf '  %-26s %-45s %-18s %s\n' LIBRARY FILE PACKAGE "PROVIDED BY"
for name in $(printf '%s\n' "${!seen[@]}" | sort); do
  path=${paths[$name]}
  if [ -z "$path" ]; then
    printf '  %-26s %-45s %-18s %s\n' "$name" "(not found)" "-" "MISSING"; status=1; continue
  fi
  package=""
  for candidate in "$path" "$(readlink -f "$path")" "${path#/usr}" "/usr$path" "$(readlink -f "$path" | sed 's|^/usr||')"; do
    package=$(dpkg -S "$candidate" 2>/dev/null | awk -F: 'NR == 1 {print $1}' || true) && [ -n "$package" ] && break
  done
  if [ -n "$package" ] && [ -n "${allowed[$package]:-}" ]; then
    printf '  %-26s %-45s %-18s %s\n' "$name" "$path" "$package" "${origin[$package]}"
  else
    printf '  %-26s %-45s %-18s %s\n' "$name" "$path" "${package:-(no package)}" "NOT IN THE RUNTIME IMAGE"; status=1
  fi
done
[ "$status" -eq 0 ] || echo "runtime-libraries: the runtime stage of $containerfile lacks a library $binary needs" >&2
exit "$status"
