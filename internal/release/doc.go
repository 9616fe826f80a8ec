// Package release owns the checksum table that the action's install step
// verifies release downloads against (release/checksums.txt, written by
// scripts/release.sh) and the tests of scripts/install.sh.
//
// It does not download or build anything itself and never touches the
// network: the scripts do, and the tests point them at local directories.
package release
