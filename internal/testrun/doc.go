// Package testrun runs a bundle's unit tests and reads their JUnit report.
//
// It owns the unit-test command (split into words and started without a
// shell, cancelled with SIGINT then killed), the JUnit XML parser (pytest's
// --junitxml and generic JUnit), locating each failure in its source file,
// and turning the result into diag findings, a text summary and a markdown
// step summary.
//
// It does not read the process environment, exit the process or talk to
// GitHub: callers pass the directory, writers, environment for the child
// process and a path lookup, and render the results where they like.
package testrun
