package bundle

import (
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/yamllimit"
	"github.com/brickci/brickci/internal/yamlpos"
)

// maxNodes bounds how many nodes alias expansion may create, so that a
// "billion laughs" document is a finding rather than an out-of-memory crash.
const maxNodes = 200_000

// tree holds parsed YAML documents and remembers which file every node came
// from, so findings about merged configuration still point at the line a
// value was written on.
type tree struct {
	files map[*yaml.Node]string
	count int
}

func newTree() *tree { return &tree{files: map[*yaml.Node]string{}} }

// fileOf returns the file a node was read from ("" when synthetic).
func (t *tree) fileOf(n *yaml.Node) string { return t.files[n] }

// parse reads one YAML document. An empty document yields an empty mapping.
// Aliases are expanded and merge keys (<<) applied so later stages see plain
// mappings, sequences and scalars only.
func (t *tree) parse(file string, data []byte) (*yaml.Node, diag.List) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, diag.List{yamlError(file, data, err)}
	}
	if err := yamllimit.Check(&doc); err != nil {
		return nil, diag.List{diag.Errorf("yaml", file, 1, 1, "%v", err)}
	}
	var root *yaml.Node
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	if root == nil || (root.Kind == yaml.ScalarNode && root.Tag == "!!null") {
		root = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}
	}
	var l diag.List
	holders := anchorHolders(root)
	t.count = 0
	out, err := t.expand(root, file, &l, 0)
	if err != nil {
		return nil, append(l, diag.Errorf("yaml", file, root.Line, root.Column, "%v", err))
	}
	if out.Kind != yaml.MappingNode {
		return nil, append(l, diag.Errorf("type", file, out.Line, out.Column, "the file must be a mapping of keys to values, not %s", yamlpos.Describe(out)))
	}
	if len(holders) > 0 {
		names := make([]string, len(holders))
		for i, k := range holders {
			names[i] = k.Value
			del(out, k.Value)
		}
		l = append(l, diag.Infof("anchor-holder", file, holders[0].Line, holders[0].Column,
			"top-level %s %s only %s YAML anchors used elsewhere in this file; %s ignored, as Databricks does",
			plural(len(names), "key", "keys"), quoteList(names), plural(len(names), "holds", "hold"),
			plural(len(names), "it is not a bundle setting and is", "they are not bundle settings and are")))
	}
	return out, l
}

// rootKeys are the top-level keys of databricks.yml.
var rootKeys = fieldsOf(reflect.TypeOf(rootConfig{}))

// anchorHolders returns the top-level keys of a raw (unexpanded) document
// that only hold YAML anchors: keys that are not bundle settings and whose
// value is anchored and used through an alias elsewhere in the document.
// The MLOps Stacks template writes shared settings this way
// (`new_cluster: &new_cluster` ... `<<: *new_cluster`).
func anchorHolders(root *yaml.Node) []*yaml.Node {
	if root.Kind != yaml.MappingNode {
		return nil
	}
	aliased := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.AliasNode {
			aliased[n.Alias] = true
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(root)
	var out []*yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if _, known := rootKeys[k.Value]; known || k.Kind != yaml.ScalarNode {
			continue
		}
		if v.Anchor != "" && aliased[v] {
			out = append(out, k)
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// errTooLarge is alias expansion over its bounds; the document itself was
// within yamllimit's limits, so the aliases are the cause.
var errTooLarge = fmt.Errorf("document expands to more than %d nodes or %d levels through aliases; simplify the anchors", maxNodes, maxExpandDepth)

// maxExpandDepth bounds how deep alias expansion may nest.
const maxExpandDepth = 1000

// expand copies n with aliases replaced by their targets and merge keys
// resolved, recording the file of every node.
func (t *tree) expand(n *yaml.Node, file string, l *diag.List, depth int) (*yaml.Node, error) {
	t.count++
	if t.count > maxNodes || depth > maxExpandDepth {
		return nil, errTooLarge
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return nil, fmt.Errorf("alias %q has no anchor", n.Value)
		}
		c, err := t.expand(n.Alias, file, l, depth+1)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	c := &yaml.Node{Kind: n.Kind, Tag: n.Tag, Value: n.Value, Style: n.Style &^ (yaml.TaggedStyle), Line: n.Line, Column: n.Column}
	t.files[c] = file
	switch n.Kind {
	case yaml.SequenceNode:
		for _, item := range n.Content {
			e, err := t.expand(item, file, l, depth+1)
			if err != nil {
				return nil, err
			}
			c.Content = append(c.Content, e)
		}
	case yaml.MappingNode:
		seen := map[string]bool{}
		var merged []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				e, err := t.expand(v, file, l, depth+1)
				if err != nil {
					return nil, err
				}
				srcs := []*yaml.Node{e}
				if e.Kind == yaml.SequenceNode {
					srcs = e.Content
				}
				for _, s := range srcs {
					if s.Kind != yaml.MappingNode {
						*l = append(*l, diag.Errorf("type", file, s.Line, s.Column, "a merge key (<<) needs a mapping, not %s", yamlpos.Describe(s)))
						continue
					}
					merged = append(merged, s.Content...)
				}
				continue
			}
			if k.Kind != yaml.ScalarNode {
				*l = append(*l, diag.Errorf("type", file, k.Line, k.Column, "mapping keys must be strings, not %s", yamlpos.Describe(k)))
				continue
			}
			if seen[k.Value] {
				*l = append(*l, diag.Errorf("duplicate-key", file, k.Line, k.Column, "key %q is defined twice in this mapping; remove one", k.Value))
				continue
			}
			seen[k.Value] = true
			ek, err := t.expand(k, file, l, depth+1)
			if err != nil {
				return nil, err
			}
			ev, err := t.expand(v, file, l, depth+1)
			if err != nil {
				return nil, err
			}
			c.Content = append(c.Content, ek, ev)
		}
		// Keys written explicitly win over merged ones.
		for i := 0; i+1 < len(merged); i += 2 {
			if !seen[merged[i].Value] {
				seen[merged[i].Value] = true
				c.Content = append(c.Content, merged[i], merged[i+1])
			}
		}
	}
	return c, nil
}

// yamlError turns a yaml.v3 error into a finding at the line and column
// of the problem.
func yamlError(file string, data []byte, err error) diag.Finding {
	line, col, msg := yamlpos.Position(data, err)
	return diag.Errorf("yaml", file, line, col, "invalid YAML: %s", msg)
}

// get returns the value of key in a mapping node, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	_, v := getKV(m, key)
	return v
}

// getKV returns the key and value nodes of key in a mapping node.
func getKV(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// set puts key: v into mapping m, replacing an existing value.
func (t *tree) set(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, Line: v.Line, Column: v.Column}
	t.files[k] = t.files[v]
	m.Content = append(m.Content, k, v)
}

// del removes key from mapping m.
func del(m *yaml.Node, key string) {
	if m == nil {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i:i], m.Content[i+2:]...)
			return
		}
	}
}

// str returns a scalar's value, or "" for anything else.
func str(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

// isNull reports whether n is absent or an explicit null.
func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") || n.Kind == 0
}

// scalar makes a synthetic string node positioned at pos and attributed to
// pos's file.
func (t *tree) scalar(value string, pos *yaml.Node) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
	if pos != nil {
		n.Line, n.Column = pos.Line, pos.Column
		t.files[n] = t.files[pos]
	}
	return n
}

// mapping makes an empty synthetic mapping node positioned at pos.
func (t *tree) mapping(pos *yaml.Node) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if pos != nil {
		n.Line, n.Column = pos.Line, pos.Column
		t.files[n] = t.files[pos]
	}
	return n
}

// clone deep-copies n, keeping positions and files.
func (t *tree) clone(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = nil
	t.files[&c] = t.files[n]
	for _, e := range n.Content {
		c.Content = append(c.Content, t.clone(e))
	}
	return &c
}

// loc returns a node's location.
func (t *tree) loc(n *yaml.Node) Location {
	if n == nil {
		return Location{}
	}
	return Location{File: t.files[n], Line: n.Line, Column: n.Column}
}

// errAt, warnAt and infoAt build findings positioned at a node.
func (t *tree) errAt(rule string, n *yaml.Node, format string, args ...any) diag.Finding {
	return diag.Errorf(rule, t.files[n], n.Line, n.Column, format, args...)
}

func (t *tree) warnAt(rule string, n *yaml.Node, format string, args ...any) diag.Finding {
	return diag.Warnf(rule, t.files[n], n.Line, n.Column, format, args...)
}

func (t *tree) infoAt(rule string, n *yaml.Node, format string, args ...any) diag.Finding {
	return diag.Infof(rule, t.files[n], n.Line, n.Column, format, args...)
}
