// Package gitinfo reads what a bundle deploy records about the git checkout
// it is deployed from — the working tree's root, the current branch, the
// HEAD commit and the origin remote — straight from the .git directory, so
// neither git nor a shell is needed on the runner.
//
// It understands plain checkouts, linked worktrees and submodules (a .git
// file pointing at the git directory), loose and packed refs, and the
// [remote "origin"] section of the repository's config. It does not read
// the process environment: the CI context (GITHUB_SHA and the like) is
// combined with it by the caller.
package gitinfo
