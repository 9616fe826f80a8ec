#!/usr/bin/env bash
# Builds the release binaries of brickci for one version and records their
# sha256 in release/checksums.txt, the table the action's install step
# verifies downloads against, and the hash of the source they were built
# from in release/source.txt. Commit both together and tag that commit.
#
#   scripts/release.sh v1.2.3 [dist-dir]
#
# It also writes dist/<version>/checksums.txt ("<sha256>  <asset>", for
# sha256sum -c). Upload dist/<version>/brickci_* and that file as the assets
# of the GitHub release <version>; .github/workflows/release.yml does so on
# a pushed tag, after rebuilding and checking that the binaries match the
# committed table.
#
# The build is reproducible: the same source and Go toolchain (go.mod) give
# the same bytes on any machine, so no VCS stamp (-buildvcs=false) and no
# paths (-trimpath) go into the binaries.
set -euo pipefail

version="${1:?usage: scripts/release.sh VERSION [DIST_DIR]}"
case "$version" in
v[0-9]*) ;;
*) echo "release: version \"$version\" must look like v1.2.3" >&2; exit 2 ;;
esac
root="$(cd "$(dirname "$0")/.." && pwd)"
dist="${2:-$root/dist}/$version"
table="$root/release/checksums.txt"
mkdir -p "$dist"

sha256_of() {
	if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | awk '{print $1}'; else shasum -a 256 "$1" | awk '{print $1}'; fi
}

entries=""
assets=""
for os in linux darwin windows; do
	for arch in amd64 arm64; do
		ext=""
		[ "$os" = windows ] && ext=".exe"
		asset="brickci_${os}_${arch}${ext}"
		echo "release: building $asset"
		(cd "$root" && CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=$version" -o "$dist/$asset" ./cmd/action)
		sum="$(sha256_of "$dist/$asset")"
		entries+="$sum  $version/$asset"$'\n'
		assets+="$sum  $asset"$'\n'
	done
done
printf '%s' "$assets" >"$dist/checksums.txt"

# Replace this version's lines, keep every other version's, stay sorted.
tmp="$(mktemp)"
{
	grep '^#' "$table" 2>/dev/null || true
	{
		grep -v '^#' "$table" 2>/dev/null | awk -v v="$version/" 'NF && index($2, v) != 1' || true
		printf '%s' "$entries"
	} | LC_ALL=C sort -k2
} >"$tmp"
mv "$tmp" "$table"
echo "release: wrote $(printf '%s' "$entries" | grep -c .) checksums for $version to release/checksums.txt"

# Tie the version to the exact source, so an action pinned by the release
# commit's sha finds the verified binaries (scripts/install.sh).
# shellcheck source=scripts/source-hash.sh
. "$root/scripts/source-hash.sh"
printf '%s %s\n' "$version" "$(brickci_source_hash "$root")" >"$root/release/source.txt"
echo "release: recorded the source of $version in release/source.txt; commit it with release/checksums.txt and tag that commit"
