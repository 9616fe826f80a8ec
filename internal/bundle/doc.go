// Package bundle loads a Databricks bundle (databricks.yml, its includes and
// resources) for one target the way Databricks does — includes, target
// overrides, variables, interpolation, mode presets, path translation — into
// a typed, position-carrying model, and checks it offline.
//
// It reads the bundle's files but never talks to a workspace: values that
// need one (the current user, lookups) are handed in by the caller.
package bundle
