// Package redact is brickci's one registry of credentials. Every secret
// value brickci knows or obtains (from the environment, a ~/.databrickscfg
// profile, an OAuth or OIDC token exchange, the GitHub token) is added to
// one Set the moment it is known; the Set tells the runner to mask it (through
// the hook cmd/action installs) and removes it from the text the writers
// built on it print, post or write.
//
// It is a leaf package (standard library only) so that the writers in
// internal/gha and internal/github and the workspace client in
// internal/workspace can all share one Set without an import cycle. It
// never reads the environment: callers hand it values.
package redact
