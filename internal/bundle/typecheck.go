package bundle

import (
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/yamlpos"
)

// The type check walks a YAML node against a Go type — the SDK's own
// request types for resources — using their json tags, so an unknown field,
// a wrong type or a bad enum value is reported where it was written. A
// `${...}` string is accepted wherever a value is: it is resolved later.

var anyType = reflect.TypeOf((*any)(nil)).Elem()

type field struct {
	name  string
	index []int
	typ   reflect.Type
}

var fieldCache sync.Map // reflect.Type -> map[string]field

// fieldsOf returns the json fields of a struct type, flattening embedded
// structs the way encoding/json does.
func fieldsOf(t reflect.Type) map[string]field {
	if v, ok := fieldCache.Load(t); ok {
		return v.(map[string]field)
	}
	out := map[string]field{}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			idx := append(append([]int(nil), index...), i)
			tag := f.Tag.Get("json")
			name, _, _ := strings.Cut(tag, ",")
			if name == "-" {
				continue
			}
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type, idx)
				continue
			}
			if !f.IsExported() || name == "" {
				continue
			}
			if _, dup := out[name]; !dup {
				out[name] = field{name: name, index: idx, typ: f.Type}
			}
		}
	}
	walk(t, nil)
	fieldCache.Store(t, out)
	return out
}

// enumValues returns the allowed values of an SDK enum type (a string type
// whose pointer has a Values method), or nil.
func enumValues(t reflect.Type) []string {
	if t.Kind() != reflect.String || t.PkgPath() == "" {
		return nil
	}
	m, ok := reflect.PointerTo(t).MethodByName("Values")
	if !ok || m.Type.NumIn() != 1 || m.Type.NumOut() != 1 || m.Type.Out(0).Kind() != reflect.Slice {
		return nil
	}
	res := m.Func.Call([]reflect.Value{reflect.New(t)})[0]
	vals := make([]string, 0, res.Len())
	for i := 0; i < res.Len(); i++ {
		vals = append(vals, res.Index(i).String())
	}
	return vals
}

// hasRef reports whether a scalar holds a ${...} reference.
func hasRef(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${")
}

// check reports every problem of n against type typ; path names the value
// in messages (for example "resources.jobs.etl.tasks[0]").
func (t *tree) check(n *yaml.Node, typ reflect.Type, path string) diag.List {
	var l diag.List
	t.checkInto(&l, n, typ, path)
	return l
}

// where names a path in messages; the empty path is the top level.
func where(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

// join appends a key to a path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (t *tree) checkInto(l *diag.List, n *yaml.Node, typ reflect.Type, path string) {
	if isNull(n) || typ == anyType {
		return
	}
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if hasRef(n) {
		// An unresolved reference stands for any value; it is resolved at
		// deploy time (or online) and checked then.
		return
	}
	switch typ.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			*l = append(*l, t.errAt("type", n, "%s must be a mapping, not %s", where(path), yamlpos.Describe(n)))
			return
		}
		fields := fieldsOf(typ)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fields[k.Value]
			if !ok {
				// Databricks warns about an unknown field and ignores it;
				// LoadOptions.Strict makes it an error.
				*l = append(*l, t.warnAt("unknown-field", k, "unknown field %q in %s%s", k.Value, where(path), diag.DidYouMean(k.Value, slices.Sorted(maps.Keys(fields)))))
				continue
			}
			t.checkInto(l, v, f.typ, join(path, k.Value))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			*l = append(*l, t.errAt("type", n, "%s must be a mapping, not %s", path, yamlpos.Describe(n)))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			t.checkInto(l, n.Content[i+1], typ.Elem(), join(path, n.Content[i].Value))
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			*l = append(*l, t.errAt("type", n, "%s must be a list, not %s", path, yamlpos.Describe(n)))
			return
		}
		for i, e := range n.Content {
			t.checkInto(l, e, typ.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			*l = append(*l, t.errAt("type", n, "%s must be a string, not %s", path, yamlpos.Describe(n)))
			return
		}
		if vals := enumValues(typ); len(vals) > 0 {
			for _, v := range vals {
				if v == n.Value {
					return
				}
			}
			*l = append(*l, t.errAt("enum", n, "%s has invalid value %q, valid are %s", path, n.Value, quoteList(vals)))
		}
	case reflect.Bool:
		if _, ok := boolOf(n); !ok {
			*l = append(*l, t.errAt("type", n, "%s must be true or false, not %s", path, yamlpos.Describe(n)))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if _, ok := intOf(n); !ok {
			*l = append(*l, t.errAt("type", n, "%s must be an integer, not %s", path, yamlpos.Describe(n)))
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := floatOf(n); !ok {
			*l = append(*l, t.errAt("type", n, "%s must be a number, not %s", path, yamlpos.Describe(n)))
		}
	}
}

func boolOf(n *yaml.Node) (bool, bool) {
	if n.Kind != yaml.ScalarNode {
		return false, false
	}
	switch n.Tag {
	case "!!bool", "!!str":
		b, err := strconv.ParseBool(n.Value)
		return b, err == nil
	}
	return false, false
}

func intOf(n *yaml.Node) (int64, bool) {
	if n.Kind != yaml.ScalarNode {
		return 0, false
	}
	switch n.Tag {
	case "!!int", "!!str":
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		return i, err == nil
	case "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		if err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f), true
		}
	}
	return 0, false
}

func floatOf(n *yaml.Node) (float64, bool) {
	if n.Kind != yaml.ScalarNode {
		return 0, false
	}
	switch n.Tag {
	case "!!int", "!!float", "!!str":
		var v any
		if err := n.Decode(&v); err == nil {
			switch x := v.(type) {
			case int:
				return float64(x), true
			case float64:
				return x, true
			}
		}
		f, err := strconv.ParseFloat(n.Value, 64)
		return f, err == nil
	}
	return 0, false
}

// toValue converts n into JSON-compatible Go values (map[string]any, []any,
// string, int64, float64, bool, nil) shaped by typ: a quoted "5" for an
// integer field becomes 5, an unquoted 5 for a string field becomes "5".
// Unresolved references stay strings for deploy time.
func toValue(n *yaml.Node, typ reflect.Type) any {
	if isNull(n) {
		return nil
	}
	for typ != nil && typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if typ == nil || typ == anyType {
		return plainValue(n)
	}
	if hasRef(n) {
		return n.Value
	}
	switch typ.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return plainValue(n)
		}
		fields := fieldsOf(typ)
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			var ft reflect.Type
			if f, ok := fields[n.Content[i].Value]; ok {
				ft = f.typ
			}
			m[n.Content[i].Value] = toValue(n.Content[i+1], ft)
		}
		return m
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return plainValue(n)
		}
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = toValue(n.Content[i+1], typ.Elem())
		}
		return m
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return plainValue(n)
		}
		s := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			s = append(s, toValue(e, typ.Elem()))
		}
		return s
	case reflect.String:
		if n.Kind == yaml.ScalarNode {
			return n.Value
		}
	case reflect.Bool:
		if b, ok := boolOf(n); ok {
			return b
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if i, ok := intOf(n); ok {
			return i
		}
	case reflect.Float32, reflect.Float64:
		if f, ok := floatOf(n); ok {
			return f
		}
	}
	return plainValue(n)
}

// plainValue converts n by its YAML tags alone.
func plainValue(n *yaml.Node) any {
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = plainValue(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			s = append(s, plainValue(e))
		}
		return s
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil
		case "!!bool":
			if b, ok := boolOf(n); ok {
				return b
			}
		case "!!int":
			if i, ok := intOf(n); ok {
				return i
			}
		case "!!float":
			if f, ok := floatOf(n); ok {
				return f
			}
		}
		return n.Value
	}
	return nil
}
