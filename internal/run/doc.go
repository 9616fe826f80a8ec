// Package run starts deployed Databricks jobs, watches every task until the
// runs finish, reports progress while they do, and cancels the remote runs
// it started when the caller's context ends (CI cancellation) or a timeout
// passes.
//
// It talks to the workspace only through the SDK's jobs service and writes
// progress to the writer it is given; it never reads the environment.
package run
