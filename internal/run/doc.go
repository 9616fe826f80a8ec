// Package run starts deployed Databricks jobs and pipelines, watches every
// job run's tasks and every pipeline update's flows until they finish,
// reports progress while they do, and cancels the job runs and stops the
// pipeline updates it started when the caller's context ends (CI
// cancellation) or a timeout passes.
//
// One machinery (run.go) starts everything first, polls, prints progress
// and heartbeats, applies the timeout and cancels; a small remote per kind
// drives the API: jobs.go (run-now, get-run, cancel-run, get-output) and
// pipelines.go (start-update, get-update, stop, and the update's
// flow_progress events, from which each flow's last status and error
// come). Durations are the runs' own, from the times the API reports. Job
// runs and task runs are linked as <host>/jobs/<job_id>/runs/<run_id>,
// pipeline updates as <host>/pipelines/<pipeline_id>/updates/<update_id>.
// select.go resolves the keys a caller names (jobs.KEY and pipelines.KEY
// disambiguate) to deployed ids; render.go writes the results as log text,
// step-summary markdown, findings and step outputs.
//
// It talks to the workspace only through the SDK's jobs and pipelines
// services and writes progress to the writer it is given; it never reads
// the environment or the deployment state itself.
package run
