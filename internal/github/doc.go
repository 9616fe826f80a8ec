// Package github owns brickci's pull-request automation: one living
// pull-request comment per check (found by a hidden marker and edited in
// place), the fallback to the step summary when commenting is not allowed
// (fork pull requests, missing permissions), opening or updating the pull
// request of the generate mode, and the git plumbing that commits and pushes
// its branch.
//
// It talks to the GitHub REST API through go-github with an injected
// *http.Client, API base URL and token, and to git through an injected
// working directory and environment. It retries secondary rate limits and
// server errors itself and turns 403/404 answers into a *PermissionError
// that names the permission the token lacks.
//
// It must not read the real environment, print or log the token (it is sent
// only in headers, never in a URL or on a command line), or touch the
// caller's working tree, index or checked-out branch: commits are built in a
// temporary index. Workflow runtime concerns (inputs, the step summary file,
// annotations) belong to internal/gha; rendering findings belongs to
// internal/diag.
package github
