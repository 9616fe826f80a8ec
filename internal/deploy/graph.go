package deploy

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/brickci/brickci/internal/bundle"
)

// refPattern matches a deploy-time reference to another resource's field:
// ${resources.<group>.<key>.<field>}. The loader resolves every field the
// configuration sets; what is left is what the workspace assigns, the id
// above all.
var refPattern = regexp.MustCompile(`\$\{resources\.([a-z_]+)\.([A-Za-z0-9_\-]+)\.([A-Za-z0-9_\-]+)\}`)

// ref is one deploy-time reference: the address of the resource used and
// the field.
type ref struct {
	addr, field string
}

func (r ref) text() string { return "${" + r.addr + "." + r.field + "}" }

// refsOf returns the distinct references a configuration holds, sorted.
func refsOf(v any) []ref {
	seen := map[ref]bool{}
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for _, c := range t {
				walk(c)
			}
		case []any:
			for _, c := range t {
				walk(c)
			}
		case string:
			for _, m := range refPattern.FindAllStringSubmatch(t, -1) {
				seen[ref{addr(m[1], m[2]), m[3]}] = true
			}
		}
	}
	walk(v)
	out := make([]ref, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b ref) int { return strings.Compare(a.addr+"."+a.field, b.addr+"."+b.field) })
	return out
}

// resolveRefs returns a deep copy of v with the references to ids that
// are known replaced by them. A string that is exactly a job's id
// becomes the number (job_id fields are integers); every other id is a
// string, and a reference inside a longer string is replaced as text.
func resolveRefs(v any, ids map[string]string) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, c := range t {
			out[k] = resolveRefs(c, ids)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, c := range t {
			out[i] = resolveRefs(c, ids)
		}
		return out
	case string:
		if m := refPattern.FindStringSubmatch(t); m != nil && m[0] == t {
			id, ok := ids[addr(m[1], m[2])]
			switch {
			case !ok || m[3] != "id":
				return t
			case m[1] == "jobs":
				return json.Number(id)
			}
			return id
		}
		return refPattern.ReplaceAllStringFunc(t, func(s string) string {
			m := refPattern.FindStringSubmatch(s)
			if id, ok := ids[addr(m[1], m[2])]; ok && m[3] == "id" {
				return id
			}
			return s
		})
	}
	return v
}

// dependsOn is the state's record of the references a resource uses.
func dependsOn(cfg map[string]any) []DependsOn {
	var out []DependsOn
	for _, r := range refsOf(cfg) {
		out = append(out, DependsOn{Node: r.addr, Label: r.text()})
	}
	return out
}

// graph is the order in which a bundle's resources are deployed.
type graph struct {
	// order lists the addresses so that every resource comes after those
	// it needs, ties broken by type (as types lists them) and key.
	order []string
	// needs holds, by address, the addresses of the bundle's resources a
	// resource needs first: those whose fields it references and those
	// whose Unity Catalog name it uses.
	needs map[string][]string
	// res holds the bundle's resources by address.
	res map[string]*bundle.Resource
}

// newGraph orders the resources deploy handles. A reference to a resource
// the bundle does not define or deploy, and a cycle, are errors naming
// the keys.
func newGraph(b *bundle.Bundle) (*graph, error) {
	res := resourcesOf(b)
	rs := slices.Collect(maps.Values(res))
	slices.SortFunc(rs, func(a, b *bundle.Resource) int {
		if d := typeIndex(a.Type) - typeIndex(b.Type); d != 0 {
			return d
		}
		return strings.Compare(a.Key, b.Key)
	})
	g := &graph{needs: map[string][]string{}, res: res}
	byName := map[string]string{}
	for _, r := range rs {
		if c, ok := typeOf(r.Type).(catalogObject); ok {
			for _, n := range c.catalogNames(r.Config) {
				if n != "" {
					// Unity Catalog names are case-insensitive.
					byName[strings.ToLower(n)] = addr(r.Type, r.Key)
				}
			}
		}
	}
	for _, r := range rs {
		a := addr(r.Type, r.Key)
		t := typeOf(r.Type)
		var needs []string
		for _, rf := range refsOf(r.Config) {
			used, key, ok := splitAddr(rf.addr)
			if !ok {
				group, k, _ := strings.Cut(strings.TrimPrefix(rf.addr, "resources."), ".")
				if slices.Contains(bundle.ResourceTypes(), group) && definedIn(b, group, k) {
					return nil, fmt.Errorf("%s %q refers to %s in %s, which brickci does not deploy; deploy both with the Databricks CLI or remove the reference", t.kind(), r.Key, k, rf.text())
				}
				return nil, fmt.Errorf("%s %q refers to unknown %s %q in %s; define it or remove the reference", t.kind(), r.Key, group, k, rf.text())
			}
			if res[rf.addr] == nil {
				return nil, fmt.Errorf("%s %q refers to unknown %s %q in %s; define the %s or remove the reference", t.kind(), r.Key, used.kind(), key, rf.text(), used.kind())
			}
			needs = append(needs, rf.addr)
		}
		if c, ok := t.(catalogObject); ok {
			for _, n := range c.catalogUses(r.Config) {
				if used, ok := byName[strings.ToLower(n)]; ok && used != a {
					needs = append(needs, used)
				}
			}
		}
		slices.Sort(needs)
		g.needs[a] = slices.Compact(needs)
	}
	const (
		unvisited = iota
		visiting
		done
	)
	mark := map[string]int{}
	var stack []string
	var visit func(string) error
	visit = func(a string) error {
		switch mark[a] {
		case done:
			return nil
		case visiting:
			i := slices.Index(stack, a)
			cycle := append(slices.Clone(stack[i:]), a)
			for j, c := range cycle {
				_, key, _ := splitAddr(c)
				cycle[j] = key
			}
			return fmt.Errorf("resources refer to each other in a cycle: %s; break the cycle", strings.Join(cycle, " -> "))
		}
		mark[a] = visiting
		stack = append(stack, a)
		for _, n := range g.needs[a] {
			if err := visit(n); err != nil {
				return err
			}
		}
		stack = stack[:len(stack)-1]
		mark[a] = done
		g.order = append(g.order, a)
		return nil
	}
	for _, r := range rs {
		if err := visit(addr(r.Type, r.Key)); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// levels splits the order into levels: a resource sits one level after
// the deepest one it needs. The resources of one level can be applied at
// once.
func (g *graph) levels() [][]string {
	level := map[string]int{}
	var levels [][]string
	for _, a := range g.order {
		l := 0
		for _, n := range g.needs[a] {
			if nl, ok := level[n]; ok {
				l = max(l, nl+1)
			}
		}
		level[a] = l
		for len(levels) <= l {
			levels = append(levels, nil)
		}
		levels[l] = append(levels[l], a)
	}
	return levels
}

// definedIn reports whether the bundle defines a resource of any type.
func definedIn(b *bundle.Bundle, group, key string) bool {
	return slices.ContainsFunc(b.Resources, func(r bundle.Resource) bool { return r.Type == group && r.Key == key })
}
