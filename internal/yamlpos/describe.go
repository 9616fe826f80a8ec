package yamlpos

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Describe names a YAML node for messages, with its article and, for a
// scalar, its value: "a mapping", "a list", `the string "x"`,
// "the integer 3", "the number 1.5", "the boolean true", "null", and
// "nothing" for a missing node or an alias that does not resolve. The spec
// and bundle readers word every type error with it ("must be a mapping,
// got a list"), so users read one vocabulary.
func Describe(n *yaml.Node) string {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n == nil || n.Kind == yaml.AliasNode {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.DocumentNode:
		return "a document"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!int":
			return "the integer " + n.Value
		case "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		}
		return fmt.Sprintf("the string %q", n.Value)
	}
	return "a value"
}
