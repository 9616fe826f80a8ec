// Package lint checks GitHub Actions workflow files and local action
// metadata: actionlint runs in-process over every file and brickci's own
// rules (pinning, permissions, dangerous triggers, script injection,
// remote scripts, float-typed versions, concurrency collisions, timeouts,
// secrets that pull-request code can reach, prod deploys without an
// environment) run inside the same actionlint pass. Everything it reports is a
// diag.Finding; inline `# brickci:ignore[rule] reason` comments suppress
// findings.
//
// It reads only the files it is given (under Options.Root), never the
// environment: external tools (shellcheck, pyflakes) are found through the
// injected Options.LookPath. It does not render findings or decide exit
// codes; that is the caller's job.
package lint
