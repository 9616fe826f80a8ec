// Package emulator is an in-process emulator of the Databricks workspace REST
// endpoints that brickci uses: the current user (SCIM Me), the workspace
// object API and the workspace-files API, Jobs 2.2 with a lazily computed run
// lifecycle, object permissions, model serving endpoints, Unity Catalog
// (catalogs, schemas, volumes, registered models, seeded tables, grants and
// quality monitors), MLflow experiments, the workspace model registry,
// pipelines with their update lifecycle and event log, clusters and SQL
// warehouses with their start and stop lifecycles, secret scopes and their
// ACLs, Lakeview dashboards, apps, SQL alerts (v2), and the OAuth token
// endpoints for machine-to-machine and OIDC token federation.
//
// A [Server] is an [http.Handler]; serve it on loopback (httptest.NewServer or
// cmd/workspace-emulator) and point databricks-sdk-go at it. State is kept per
// workspace, and every bearer token is its own workspace (tokens issued through
// the OAuth endpoints share the workspace of their client id). Control
// endpoints under /__emulator/ and the Go methods [Server.Configure],
// [Server.Seed], [Server.Requests] and [Server.Reset] inject latency and
// 429/503 faults, throttle each workspace above a request rate (429 with
// Retry-After), choose task and pipeline outcomes, seed Unity Catalog objects
// the API cannot create and expose what was requested; accessors such as
// [Server.Files], [Server.Jobs], [Server.Schemas] and [Server.Pipelines]
// expose the remote state for assertions.
//
// The package owns only emulated state. It never touches the real filesystem,
// the real environment or any network other than the listener it is served on,
// and it starts no goroutines that outlive a request: run, serving endpoint,
// quality monitor, pipeline update, cluster, warehouse and app lifecycles are
// computed from timestamps of an injectable clock.
package emulator
