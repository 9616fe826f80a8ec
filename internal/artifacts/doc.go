// Package artifacts builds a bundle's artifacts (the `artifacts` mapping of
// databricks.yml: Python wheels, jars, anything a command makes) before a
// plan or deploy, as `databricks bundle deploy` does, and hashes what they
// produced.
//
// A build runs in the artifact's path. A command without shell syntax is
// split into words and run directly; one that uses pipes, redirections,
// `&&`, variables or globs runs with `sh -c`, as the Databricks CLI runs
// every build (or with the artifact's `executable`). Output is streamed to
// the caller, inside a GitHub Actions log group when asked, and its last
// lines are kept for the error of a failed build. A wheel build starts from
// an empty dist/ (and without build/ and *.egg-info), as in the CLI, so the
// default glob <path>/dist/*.whl finds only the new wheel.
//
// With dynamic_version, a wheel's version gets a local label derived from
// its content (DynamicVersion), so every change yields a new file name.
//
// Hash gives the content hash deploy compares: for a zip archive (wheel,
// jar) it covers every entry's name and bytes but not the timestamps the
// archive stores, so rebuilding unchanged sources gives the same hash.
//
// It does not read databricks.yml (internal/bundle resolves the artifacts
// and the references to their outputs), upload anything (internal/deploy),
// read the process environment or exit: the environment, the program
// lookup, the process runner and the clock are passed in.
package artifacts
