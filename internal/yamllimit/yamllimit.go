package yamllimit

import (
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// The limits. A large real bundle file or workflow is tens of kilobytes,
// nests about a dozen levels and holds a few thousand nodes.
const (
	// MaxFileBytes is the largest YAML file brickci reads.
	MaxFileBytes = 4 << 20
	// MaxDepth is how deep mappings and sequences may nest.
	MaxDepth = 100
	// MaxNodes is how many nodes one document may hold, aliases not
	// followed (alias expansion has its own bound where it is done).
	MaxNodes = 200_000
)

// ErrLimit is wrapped by every error that reports a limit.
var ErrLimit = errors.New("over brickci's input limit")

// limitError names the limit a file exceeds.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }
func (e *limitError) Unwrap() error { return ErrLimit }

// ReadFile reads a YAML file of at most MaxFileBytes. A larger file is
// refused after reading one byte past the limit, with an error that says
// so; other errors are the file system's.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if err := CheckSize(len(data)); err != nil {
		return nil, err
	}
	return data, nil
}

// CheckSize reports a file of n bytes over MaxFileBytes.
func CheckSize(n int) error {
	if n > MaxFileBytes {
		return &limitError{fmt.Sprintf("the file is larger than the limit of %d MiB for YAML input; split it into smaller files", MaxFileBytes>>20)}
	}
	return nil
}

// Check reports a document nested deeper than MaxDepth or holding more
// than MaxNodes nodes. Aliases are not followed.
func Check(n *yaml.Node) error {
	count := 0
	var walk func(n *yaml.Node, depth int) error
	walk = func(n *yaml.Node, depth int) error {
		count++
		if count > MaxNodes {
			return &limitError{fmt.Sprintf("the document holds more than the limit of %d YAML nodes; split it into smaller files", MaxNodes)}
		}
		if depth > MaxDepth {
			return &limitError{fmt.Sprintf("the document nests deeper than the limit of %d levels (line %d); flatten it", MaxDepth, n.Line)}
		}
		for _, c := range n.Content {
			if err := walk(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode {
		// The document node is not a level of nesting.
		for _, c := range n.Content {
			if err := walk(c, 1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(n, 1)
}

// Parse decodes data into a YAML node tree and applies Check. A syntax
// error is returned as yaml.v3 gives it, so callers keep their position
// handling; a limit error wraps ErrLimit.
func Parse(data []byte) (*yaml.Node, error) {
	if err := CheckSize(len(data)); err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if err := Check(&doc); err != nil {
		return nil, err
	}
	return &doc, nil
}
