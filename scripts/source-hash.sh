# shellcheck shell=bash
# Sourced by install.sh and release.sh: one definition of the source hash
# that ties a release to the exact code it was built from.
#
# brickci_source_hash DIR prints the sha256 over the sha256 of every file
# under DIR's cmd/ and internal/, plus go.mod and go.sum, in byte order of
# their paths. A checkout whose hash equals the one recorded at release time
# holds the code the released binaries were built from, whatever ref (tag
# or commit sha) it was fetched by.

brickci_sha256_stdin() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum | awk '{print $1}'
	else
		shasum -a 256 | awk '{print $1}'
	fi
}

brickci_source_hash() {
	(
		cd "$1" || exit 1
		files=()
		for f in go.mod go.sum; do [ -f "$f" ] && files+=("$f"); done
		while IFS= read -r -d '' f; do files+=("$f"); done < <(find cmd internal -type f -print0 2>/dev/null | LC_ALL=C sort -z)
		for f in "${files[@]}"; do
			printf '%s  %s\n' "$(brickci_sha256_stdin <"$f")" "$f"
		done | brickci_sha256_stdin
	)
}
