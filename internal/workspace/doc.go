// Package workspace owns brickci's side of talking to a Databricks
// workspace before a deploy engine takes over: the databricks-sdk-go client
// built from the invocation (--host and --profile, Databricks unified auth
// read through an injected getenv, ~/.databrickscfg, brickci's rate limit
// and connection pool, the credential registry on every request), the
// current user with the bundle's service-principal short-name rule, the
// variable lookups that resolve names to ids, the online checks validate
// runs on a resolved bundle, and whether a deployment exists.
//
// Resolver is the hook internal/bundle's Load calls once the target's
// workspace block is known (LoadOptions.Resolve), so that a bundle is
// loaded once, for the current user, with its lookups resolved; a second
// load of the same bundle (after building artifacts) asks nothing again.
//
// It never reads the process environment, never exits and never prints on
// its own: the environment, the credential registry and the way to say a
// note are handed in by cmd/action. It does not plan, deploy or run
// (internal/deploy and internal/run do, with the client it builds).
package workspace
