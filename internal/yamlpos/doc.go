// Package yamlpos reads the position out of a gopkg.in/yaml.v3 syntax
// error: the one place that knows how the library numbers its lines, and
// how to find the column it does not print, for the spec, bundle and
// action-metadata readers alike. Error reads the line from the message;
// Position also finds the column (and a problem on the first line) by
// asking go.yaml.in/yaml/v4, the same parser, which reports both.
//
// Describe names a node in type errors ("got a list", `not the string
// "x"`), one vocabulary for the spec and bundle readers.
package yamlpos
