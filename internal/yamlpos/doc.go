// Package yamlpos reads the position out of a gopkg.in/yaml.v3 syntax
// error: the one place that knows how the library numbers its lines, for
// the spec, bundle and action-metadata readers alike. It parses nothing
// itself.
package yamlpos
