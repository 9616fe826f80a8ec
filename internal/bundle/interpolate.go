package bundle

import (
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/yamlpos"
)

// refPattern matches one ${...} reference: dotted names with optional
// [index] suffixes, as Databricks bundles write them.
var refPattern = regexp.MustCompile(`\$\{([a-zA-Z_][a-zA-Z0-9_\-]*(?:\.[a-zA-Z0-9_\-]+|\[[0-9]+\])*)\}`)

// maxValueLen bounds a string built by substitution, so that references
// doubling at every level cannot exhaust memory.
const maxValueLen = 1 << 20

// variable is one declared variable with the source its value comes from.
type variable struct {
	name    string
	decl    *yaml.Node // the declaration's key
	complex bool
	value   *yaml.Node // nil when it has none (yet)
	lookup  *yaml.Node // the lookup mapping when the value is looked up
	// deferred is true when the value cannot be known offline; references
	// to it stay in place.
	deferred bool
	looked   bool
}

// resolver substitutes references in a configuration tree. Every node is
// resolved at most once; a node met again while it is being resolved is a
// cycle, reported with the chain of references that closes it.
type resolver struct {
	t      *tree
	root   *yaml.Node
	vars   map[string]*variable
	lookup func(kind, name string) (string, error)
	// deferUser leaves ${workspace.current_user.*} in place (offline).
	deferUser bool
	// resourcesOnly resolves only ${resources.*} references (the second
	// pass, after presets, as the CLI does); everything else stays.
	resourcesOnly bool
	// gitMissing says, per bundle.git field that could not be found, why;
	// references to it resolve to "" with a warning.
	gitMissing map[string]string

	state    map[*yaml.Node]int8 // 1 resolving, 2 done
	stack    []frame
	diags    diag.List
	reported map[string]bool
}

type frame struct {
	label string
	node  *yaml.Node
}

func newResolver(t *tree, root *yaml.Node, vars map[string]*variable) *resolver {
	return &resolver{t: t, root: root, vars: vars, state: map[*yaml.Node]int8{}, reported: map[string]bool{}}
}

func (r *resolver) report(key string, f diag.Finding) {
	if r.reported[key] {
		return
	}
	r.reported[key] = true
	r.diags = append(r.diags, f)
}

// resolve substitutes every reference below n.
func (r *resolver) resolve(n *yaml.Node) { r.resolveNode(n, "") }

func (r *resolver) resolveNode(n *yaml.Node, label string) {
	if n == nil || r.state[n] != 0 {
		return
	}
	r.state[n] = 1
	r.stack = append(r.stack, frame{label, n})
	switch n.Kind {
	case yaml.ScalarNode:
		r.resolveScalar(n)
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			r.resolveNode(n.Content[i], "")
		}
	case yaml.SequenceNode:
		for _, e := range n.Content {
			r.resolveNode(e, "")
		}
	}
	r.stack = r.stack[:len(r.stack)-1]
	r.state[n] = 2
}

func (r *resolver) resolveScalar(n *yaml.Node) {
	if !strings.Contains(n.Value, "${") {
		return
	}
	ms := refPattern.FindAllStringSubmatchIndex(n.Value, -1)
	if len(ms) == 0 {
		return
	}
	if len(ms) == 1 && ms[0][0] == 0 && ms[0][1] == len(n.Value) {
		v, ok := r.ref(n.Value[ms[0][2]:ms[0][3]], n)
		if !ok {
			return
		}
		if v.Kind == yaml.ScalarNode {
			n.Tag, n.Value, n.Style = v.Tag, v.Value, 0
			return
		}
		c := r.t.clone(v)
		n.Kind, n.Tag, n.Value, n.Style, n.Content = c.Kind, c.Tag, "", 0, c.Content
		return
	}
	var b strings.Builder
	last := 0
	for _, m := range ms {
		b.WriteString(n.Value[last:m[0]])
		last = m[1]
		text := n.Value[m[0]:m[1]]
		v, ok := r.ref(n.Value[m[2]:m[3]], n)
		switch {
		case !ok:
			b.WriteString(text)
		case v.Kind != yaml.ScalarNode:
			r.report("type:"+text+r.t.loc(n).String(), r.t.errAt("reference-type", n, "%s is %s and cannot be part of a string; use it as the whole value", text, yamlpos.Describe(v)))
			b.WriteString(text)
		case v.Tag == "!!null":
		case b.Len()+len(v.Value) > maxValueLen:
			r.report("long:"+r.t.loc(n).String(), r.t.errAt("reference-type", n, "value grows beyond %d bytes through references; simplify the variables", maxValueLen))
			return
		default:
			b.WriteString(v.Value)
		}
	}
	b.WriteString(n.Value[last:])
	n.Value, n.Tag = b.String(), "!!str"
}

// segments splits "a.b[0].c" into "a", "b", "[0]", "c".
func segments(ref string) []string {
	var out []string
	for _, part := range strings.Split(ref, ".") {
		for {
			i := strings.IndexByte(part, '[')
			if i < 0 {
				break
			}
			if i > 0 {
				out = append(out, part[:i])
			}
			j := strings.IndexByte(part, ']')
			if j < i {
				break
			}
			out = append(out, part[i:j+1])
			part = part[j+1:]
		}
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

// ref resolves one reference used at node use. ok is false when the
// reference stays in place (deploy-time, unknown offline, or an error that
// has been reported).
func (r *resolver) ref(ref string, use *yaml.Node) (*yaml.Node, bool) {
	segs := segments(ref)
	var (
		n     *yaml.Node
		rest  []string
		label = ref
	)
	if r.resourcesOnly {
		if segs[0] != "resources" {
			return nil, false
		}
		return r.resourceRef(ref, segs, use)
	}
	switch segs[0] {
	case "var":
		if len(segs) < 2 {
			r.report("bad:"+ref, r.t.errAt("unknown-reference", use, "reference ${%s} names no variable; write ${var.<name>}", ref))
			return nil, false
		}
		v := r.vars[segs[1]]
		if v == nil {
			r.report("undef:"+segs[1]+r.t.loc(use).String(), r.t.errAt("undefined-variable", use, "undefined variable %q: declare it under variables%s", segs[1], diag.DidYouMean(segs[1], r.varNames())))
			return nil, false
		}
		r.lookupValue(v)
		if v.deferred {
			return nil, false
		}
		if v.value == nil {
			r.report("unset:"+v.name+r.t.loc(use).String(), r.t.errAt("variable-unset", use, "variable %q has no value: give it a default, a value in the target, --var %s=... or BUNDLE_VAR_%s", v.name, v.name, v.name))
			return nil, false
		}
		n, rest = v.value, segs[2:]
		if len(rest) == 0 {
			label = "var." + v.name
		}
	case "bundle", "workspace":
		if segs[0] == "workspace" && len(segs) > 1 && segs[1] == "current_user" && r.deferUser {
			return nil, false
		}
		if segs[0] == "bundle" && len(segs) == 2 && segs[1] == "environment" {
			r.report("env:"+r.t.loc(use).String(), r.t.warnAt("deprecated-reference", use, "${bundle.environment} is deprecated: write ${bundle.target}"))
		}
		if segs[0] == "bundle" && len(segs) == 3 && segs[1] == "git" {
			if why, ok := r.gitMissing[segs[2]]; ok {
				fix := "deploy from a git checkout"
				if segs[2] == "origin_url" || segs[2] == "branch" {
					fix += " or set bundle.git." + segs[2]
				}
				r.report("git:"+segs[2], r.t.warnAt("git-unknown", use, "${bundle.git.%s} resolves to an empty string: %s; %s", segs[2], why, fix))
			}
		}
		n, rest = get(r.root, segs[0]), segs[1:]
	case "resources", "artifacts":
		return nil, false
	default:
		r.report("unknown:"+ref, r.t.warnAt("unknown-reference", use, "unknown reference ${%s}: references start with var., bundle., workspace. or resources.", ref))
		return nil, false
	}
	for i, s := range rest {
		if n == nil {
			break
		}
		if n.Kind == yaml.ScalarNode {
			if !r.enter(n, strings.Join(segs[:len(segs)-len(rest)+i], "."), use) {
				return nil, false
			}
		}
		if strings.HasPrefix(s, "[") {
			idx, err := strconv.Atoi(s[1 : len(s)-1])
			if n.Kind != yaml.SequenceNode || err != nil || idx >= len(n.Content) {
				n = nil
				break
			}
			n = n.Content[idx]
			continue
		}
		n = get(n, s)
	}
	if n == nil {
		r.report("missing:"+ref+r.t.loc(use).String(), r.t.errAt("unknown-reference", use, "reference ${%s} does not exist; check the name", ref))
		return nil, false
	}
	if !r.enter(n, label, use) {
		return nil, false
	}
	return n, true
}

// enter resolves n before it is used, reporting a cycle when n is already
// being resolved further up.
func (r *resolver) enter(n *yaml.Node, label string, use *yaml.Node) bool {
	if r.state[n] == 1 {
		i := len(r.stack) - 1
		for i > 0 && r.stack[i].node != n {
			i--
		}
		var chain []string
		if r.stack[i].label == "" {
			chain = append(chain, label)
		}
		for _, f := range r.stack[i:] {
			if f.label != "" {
				chain = append(chain, f.label)
			}
		}
		chain = append(chain, label)
		key := append([]string(nil), chain[:len(chain)-1]...)
		sort.Strings(key)
		r.report("cycle:"+strings.Join(key, ","), r.t.errAt("reference-cycle", use, "reference cycle %s: give one of them a literal value", strings.Join(chain, " -> ")))
		return false
	}
	r.resolveNode(n, label)
	return true
}

// lookupValue resolves a variable's lookup once, through the online
// resolver when there is one.
func (r *resolver) lookupValue(v *variable) {
	if v.lookup == nil || v.looked {
		return
	}
	v.looked = true
	kind, name := "", (*yaml.Node)(nil)
	if len(v.lookup.Content) >= 2 {
		kind, name = v.lookup.Content[0].Value, v.lookup.Content[1]
	}
	if r.lookup == nil {
		v.deferred = true
		r.diags = append(r.diags, r.t.infoAt("unresolved-lookup", v.lookup, "unresolved lookup: variable %q looks up %s %q, which is only resolved online", v.name, strings.ReplaceAll(kind, "_", " "), str(name)))
		return
	}
	r.resolveNode(name, "var."+v.name)
	if hasRef(name) {
		v.deferred = true
		return
	}
	id, err := r.lookup(kind, str(name))
	if err != nil {
		v.deferred = true
		r.diags = append(r.diags, r.t.errAt("lookup-failed", v.lookup, "variable %q: failed to look up %s %q: %v", v.name, strings.ReplaceAll(kind, "_", " "), str(name), err))
		return
	}
	v.value = r.t.scalar(id, v.lookup)
}

func (r *resolver) varNames() []string {
	names := make([]string, 0, len(r.vars))
	for n := range r.vars {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// String renders a location as file:line:col.
func (l Location) String() string {
	return l.File + ":" + strconv.Itoa(l.Line) + ":" + strconv.Itoa(l.Column)
}

// resourceRef resolves ${resources.<type>.<key>.<field>} to the field's
// configured value. A field the configuration does not set (id, and what
// the workspace assigns) stays in place for deploy time; a resource that
// does not exist is reported.
func (r *resolver) resourceRef(ref string, segs []string, use *yaml.Node) (*yaml.Node, bool) {
	if len(segs) < 3 {
		r.report("bad:"+ref, r.t.errAt("unknown-reference", use, "reference ${%s} names no resource; write ${resources.<type>.<key>.<field>}", ref))
		return nil, false
	}
	res := get(r.root, "resources")
	typ := get(res, segs[1])
	if _, known := resourceTypes[segs[1]]; !known && typ == nil {
		r.report("restype:"+ref+r.t.loc(use).String(), r.t.errAt("unknown-reference", use, "reference ${%s} names unknown resource type %q%s", ref, segs[1], diag.DidYouMean(segs[1], slices.Sorted(maps.Keys(resourceTypes)))))
		return nil, false
	}
	entry := get(typ, segs[2])
	if entry == nil {
		var keys []string
		if typ != nil && typ.Kind == yaml.MappingNode {
			for i := 0; i < len(typ.Content); i += 2 {
				keys = append(keys, typ.Content[i].Value)
			}
		}
		r.report("reskey:"+ref+r.t.loc(use).String(), r.t.errAt("unknown-reference", use, "reference ${%s}: the bundle defines no %s %q%s", ref, segs[1], segs[2], diag.DidYouMean(segs[2], keys)))
		return nil, false
	}
	if len(segs) < 4 || segs[3] == "id" {
		return nil, false
	}
	n := entry
	for _, s := range segs[3:] {
		if strings.HasPrefix(s, "[") {
			idx, err := strconv.Atoi(s[1 : len(s)-1])
			if n.Kind != yaml.SequenceNode || err != nil || idx >= len(n.Content) {
				return nil, false
			}
			n = n.Content[idx]
			continue
		}
		if n = get(n, s); n == nil {
			return nil, false
		}
	}
	if !r.enter(n, ref, use) {
		return nil, false
	}
	return n, true
}
