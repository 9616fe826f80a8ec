// Package yamllimit holds the documented limits on the YAML brickci reads
// (bundle files, the pipeline spec, workflow files): the size of one file,
// how deep it may nest and how many nodes it may hold. Every reader of
// YAML that a pull request can change applies them, so that a hostile or
// broken file is refused quickly, with a message that names the limit,
// instead of taking seconds and gigabytes. The limits are far above what
// real files need (see docs/reliability.md).
//
// It reads only the files it is asked to.
package yamllimit
