#!/usr/bin/env bash
# Installs the brickci binary for this runner and writes BRICKCI_BIN to
# GITHUB_ENV. Used by the "Install brickci" step of action.yml.
#
# With INSTALL=release (the default) it downloads the release asset for the
# action's ref and verifies its sha256 against release/checksums.txt,
# committed in this repository, so a replaced asset is refused. An action
# pinned by commit sha (the recommended way) has that sha as its ref: the
# release is then found through release/source.txt, which records the
# version and the hash of the source it was built from (scripts/
# source-hash.sh); only a checkout with exactly that source gets the
# released binary. When no release matches (a branch or an unreleased
# commit), or with INSTALL=source, it builds the binary from the action's
# own checkout.
#
# Environment:
#   BRICKCI_REF               the action's ref (github.action_ref)
#   INSTALL                   release or source
#   RUNNER_OS, RUNNER_ARCH    set by the runner (Linux/macOS/Windows, X64/ARM64)
#   ACTION_PATH               the action's checkout (github.action_path)
#   BRICKCI_DEST              directory for the binary (default RUNNER_TEMP)
#   BRICKCI_RELEASE_BASE_URL  where release assets live (default GitHub releases;
#                             file:// URLs work for testing)
#   BRICKCI_CHECKSUMS         checksum table (default ACTION_PATH/release/checksums.txt)
#   GITHUB_ENV                file the runner reads environment variables from
set -euo pipefail

die() {
	echo "brickci install: $*" >&2
	exit "${2:-1}"
}

ref="${BRICKCI_REF:-}"
mode="${INSTALL:-release}"
action_path="${ACTION_PATH:?ACTION_PATH must name the action checkout}"
dest="${BRICKCI_DEST:-${RUNNER_TEMP:-}}"
[ -n "$dest" ] || die "neither BRICKCI_DEST nor RUNNER_TEMP is set; set one to the directory for the binary" 2
base="${BRICKCI_RELEASE_BASE_URL:-https://github.com/brickci/brickci/releases/download}"
table="${BRICKCI_CHECKSUMS:-$action_path/release/checksums.txt}"

case "${RUNNER_OS:-}" in
Linux) os=linux ;;
macOS) os=darwin ;;
Windows) os=windows ;;
*) die "unsupported RUNNER_OS \"${RUNNER_OS:-}\"; brickci runs on Linux, macOS and Windows runners" 2 ;;
esac
case "${RUNNER_ARCH:-}" in
X64) arch=amd64 ;;
ARM64) arch=arm64 ;;
*) die "unsupported RUNNER_ARCH \"${RUNNER_ARCH:-}\"; brickci runs on X64 and ARM64 runners" 2 ;;
esac
ext=""
[ "$os" = windows ] && ext=".exe"
asset="brickci_${os}_${arch}${ext}"
bin="$dest/brickci${ext}"

case "$mode" in
release | source) ;;
*) die "unknown install \"$mode\"; use release or source" 2 ;;
esac

# A job often runs the action several times (validate, deploy, run). The
# binary installed first is kept with what it was installed from in
# "$bin.from", and later steps reuse it when that is the same.
installed_from() {
	[ -x "$bin" ] && [ -f "$bin.from" ] && [ "$(cat "$bin.from")" = "$1" ]
}

build_from_source() {
	local from
	from="source $(brickci_source_hash "$action_path")"
	if installed_from "$from"; then
		echo "brickci install: reusing $bin, built from the same source"
		return
	fi
	echo "brickci install: building from source in $action_path ($1)"
	command -v go >/dev/null 2>&1 || die "go is not on PATH, so brickci cannot be built from source; add actions/setup-go before this action or use a released version"
	(cd "$action_path" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${ref:-source}" -o "$bin" ./cmd/action) ||
		die "failed to build brickci from source in $action_path"
	printf '%s\n' "$from" >"$bin.from"
}

sha256_of() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | awk '{print $1}'
	else
		shasum -a 256 "$1" | awk '{print $1}'
	fi
}

# shellcheck source=scripts/source-hash.sh
. "$(dirname "${BASH_SOURCE[0]}")/source-hash.sh"

lookup() {
	awk -v key="$1/$asset" '$1 !~ /^#/ && $2 == key {print $1; exit}' "$table"
}

want=""
version="$ref"
why="no verified release of ref \"$ref\" for $asset in release/checksums.txt"
if [ "$mode" = release ] && [ -n "$ref" ] && [ -f "$table" ]; then
	want="$(lookup "$ref")"
	if [ -z "$want" ] && [ -f "$action_path/release/source.txt" ]; then
		read -r released released_hash _ <"$action_path/release/source.txt" || true
		if [ -n "${released:-}" ] && [ "$(brickci_source_hash "$action_path")" = "${released_hash:-}" ]; then
			version="$released"
			want="$(lookup "$released")"
			echo "brickci install: ref \"$ref\" holds the source of release $released"
		elif [ -n "${released:-}" ]; then
			why="the source at ref \"$ref\" differs from release $released"
		fi
	fi
fi

if [ "$mode" = source ]; then
	build_from_source "install: source"
elif [ -z "$want" ]; then
	build_from_source "$why"
elif installed_from "release $version $want" && [ "$(sha256_of "$bin")" = "$want" ]; then
	echo "brickci install: reusing $bin, release $version (sha256 $want verified)"
else
	url="$base/$version/$asset"
	tmp="$(mktemp "$dest/brickci.download.XXXXXX")"
	trap 'rm -f "$tmp"' EXIT
	curl -fsSL --retry 3 -o "$tmp" "$url" || die "failed to download $url"
	got="$(sha256_of "$tmp")"
	if [ "$got" != "$want" ]; then
		die "checksum mismatch for $url: expected sha256 $want (release/checksums.txt), got $got; refusing to install. The release asset does not match the one this ref was released with; use install: source or report it"
	fi
	chmod +x "$tmp"
	mv "$tmp" "$bin"
	trap - EXIT
	printf '%s\n' "release $version $want" >"$bin.from"
	echo "brickci install: installed $asset $version for $ref (sha256 $got verified)"
fi

if [ -n "${GITHUB_ENV:-}" ]; then
	echo "BRICKCI_BIN=$bin" >>"$GITHUB_ENV"
fi
echo "brickci install: BRICKCI_BIN=$bin"
