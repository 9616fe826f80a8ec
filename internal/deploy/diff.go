package deploy

import (
	"fmt"
	"reflect"
	"sort"
)

// FieldChange is one difference between the settings recorded in state and
// the desired settings: a JSON path with the old and new values (nil when
// the field is absent on that side).
type FieldChange struct {
	Path string `json:"path"`
	Old  any    `json:"old,omitempty"`
	New  any    `json:"new,omitempty"`
}

// listKeys are the fields that identify elements of the Jobs API's lists,
// so that a diff of tasks reads tasks[train] rather than tasks[3].
var listKeys = []string{"task_key", "job_cluster_key", "environment_key", "name", "key"}

// diffValues appends the differences between old and new under prefix.
func diffValues(prefix string, old, new any, out *[]FieldChange) {
	if reflect.DeepEqual(old, new) {
		return
	}
	om, oIsMap := old.(map[string]any)
	nm, nIsMap := new.(map[string]any)
	if oIsMap && nIsMap {
		for _, k := range unionKeys(om, nm) {
			diffValues(join(prefix, k), om[k], nm[k], out)
		}
		return
	}
	ol, oIsList := old.([]any)
	nl, nIsList := new.([]any)
	if oIsList && nIsList {
		if key := commonListKey(ol, nl); key != "" {
			diffKeyedLists(prefix, key, ol, nl, out)
			return
		}
		for i := 0; i < max(len(ol), len(nl)); i++ {
			var o, n any
			if i < len(ol) {
				o = ol[i]
			}
			if i < len(nl) {
				n = nl[i]
			}
			diffValues(fmt.Sprintf("%s[%d]", prefix, i), o, n, out)
		}
		return
	}
	*out = append(*out, FieldChange{Path: prefix, Old: old, New: new})
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// commonListKey returns the identifying field every element of both lists
// has with distinct values, or "".
func commonListKey(a, b []any) string {
	for _, key := range listKeys {
		if uniqueBy(a, key) && uniqueBy(b, key) {
			return key
		}
	}
	return ""
}

func uniqueBy(l []any, key string) bool {
	seen := map[string]bool{}
	for _, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return false
		}
		s, ok := m[key].(string)
		if !ok || seen[s] {
			return false
		}
		seen[s] = true
	}
	return true
}

func diffKeyedLists(prefix, key string, ol, nl []any, out *[]FieldChange) {
	om, nm := byKey(ol, key), byKey(nl, key)
	for _, k := range unionKeys(om, nm) {
		diffValues(fmt.Sprintf("%s[%s]", prefix, k), om[k], nm[k], out)
	}
}

// unionKeys returns the keys of both maps, sorted.
func unionKeys(a, b map[string]any) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// byKey indexes the elements of a keyed list (see commonListKey).
func byKey(l []any, key string) map[string]any {
	m := map[string]any{}
	for _, e := range l {
		m[e.(map[string]any)[key].(string)] = e
	}
	return m
}
