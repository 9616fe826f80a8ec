// Package run starts deployed Databricks jobs, watches every task until the
// runs finish, reports progress while they do, and cancels the remote runs
// it started when the caller's context ends (CI cancellation) or a timeout
// passes. Durations are the runs' own, from the start and end times the
// API reports; runs and task runs are linked in one format,
// <host>/jobs/<job_id>/runs/<run_id>. render.go writes the results as log
// text, step-summary markdown and findings.
//
// It talks to the workspace only through the SDK's jobs service and writes
// progress to the writer it is given; it never reads the environment.
package run
