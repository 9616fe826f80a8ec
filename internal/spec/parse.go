package spec

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/yamllimit"
	"github.com/brickci/brickci/internal/yamlpos"
)

// The rule ids of spec findings.
const (
	RuleYAML            = "spec-yaml"
	RuleUnknownKey      = "spec-unknown-key"
	RuleDuplicateKey    = "spec-duplicate-key"
	RuleType            = "spec-type"
	RuleRequired        = "spec-required"
	RuleValue           = "spec-value"
	RuleProject         = "spec-project"
	RuleBranch          = "spec-branch"
	RuleTargetMissing   = "spec-target-missing"
	RuleTargetDuplicate = "spec-target-duplicate"
	RuleAuth            = "spec-auth"
	RuleActionRef       = "spec-action-ref"
	RuleSecretName      = "spec-secret-name"
	RuleBundle          = "spec-bundle"
	RuleJob             = "spec-job"
	// RuleExpression reports a ${{ }} expression other than vars.* or
	// secrets.* in a value that becomes a step's env or input.
	RuleExpression = "spec-expression"
	// RuleScope reports a key at the wrong level of a spec with projects:
	// a project's key at the top, or a repository-wide key in a project.
	RuleScope = "spec-scope"
	// RuleDependsOn reports a depends-on entry that is not a directory of
	// the repository.
	RuleDependsOn = "spec-depends-on"
)

// RequiredTargets must be defined by every spec: the CD workflows deploy to them.
var RequiredTargets = []string{"staging", "prod"}

var (
	projectRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	nameRe    = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	secretRe  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	shaRe     = regexp.MustCompile(`^[0-9a-f]{40}$`)
	versionRe = regexp.MustCompile(`^v?[0-9]+(\.[0-9]+)*$`)
	repoRe    = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@]+)?$`)
	lineRe    = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)
	// exprRe finds ${{ }} expressions; trustedExprRe is the only kind a
	// spec value may hold: one vars or secrets name, which the pull request
	// being checked cannot choose.
	exprRe        = regexp.MustCompile(`\$\{\{(.*?)\}\}`)
	trustedExprRe = regexp.MustCompile(`^\s*(vars|secrets)\.[A-Za-z_][A-Za-z0-9_]*\s*$`)
)

// field is one key/value pair of a mapping.
type field struct {
	key, val *yaml.Node
}

type parser struct {
	file  string
	diags diag.List
}

func (p *parser) add(sev diag.Severity, rule string, n *yaml.Node, format string, args ...any) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	p.diags = append(p.diags, diag.Finding{Severity: sev, Rule: rule, File: p.file, Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) errorf(rule string, n *yaml.Node, format string, args ...any) {
	p.add(diag.Error, rule, n, format, args...)
}

func (p *parser) warnf(rule string, n *yaml.Node, format string, args ...any) {
	p.add(diag.Warning, rule, n, format, args...)
}

// Parse parses spec bytes. name is used as the file of every finding. The
// returned spec is nil only when the document is not a mapping at all;
// callers must not use a spec whose findings contain errors.
func Parse(name string, data []byte) (*Spec, diag.List) {
	p := &parser{file: name}
	s := p.parse(data)
	p.diags.Sort()
	return s, p.diags
}

func (p *parser) parse(data []byte) *Spec {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(RuleYAML, nil, "the pipeline spec is empty; write a mapping with project, bundle, action and targets")
			return nil
		}
		p.yamlError(data, err)
		return nil
	}
	if err := yamllimit.Check(&doc); err != nil {
		p.errorf(RuleYAML, nil, "%v", err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.errorf(RuleYAML, &extra, "the pipeline spec holds more than one YAML document; keep only the first")
	} else if !errors.Is(err, io.EOF) {
		p.yamlError(data, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			p.errorf(RuleYAML, nil, "the pipeline spec is empty; write a mapping with project, bundle, action and targets")
			return nil
		}
		root = root.Content[0]
	}
	root = deref(root)
	if root == nil || root.Kind != yaml.MappingNode {
		if root != nil && root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			p.errorf(RuleYAML, root, "the pipeline spec is empty; write a mapping with project, bundle, action and targets")
			return nil
		}
		p.errorf(RuleType, root, "the pipeline spec must be a mapping, got %s; write keys such as project: and targets:", yamlpos.Describe(root))
		return nil
	}
	s := &Spec{File: p.file, SHA256: Hash(data)}
	p.spec(root, s)
	return s
}

func (p *parser) yamlError(data []byte, err error) {
	line, col, msg := yamlpos.Position(data, err)
	p.diags = append(p.diags, diag.Errorf(RuleYAML, p.file, line, col, "invalid YAML: %s", msg))
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// fields returns the pairs of a mapping, following aliases and merge keys,
// reporting duplicates and keys outside known (with a did-you-mean). It
// reports a type error and returns nil when n is not a mapping.
func (p *parser) fields(n *yaml.Node, what string, known []string) map[string]field {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return map[string]field{}
		}
		p.errorf(RuleType, n, "%s must be a mapping, got %s", what, yamlpos.Describe(n))
		return nil
	}
	out := map[string]field{}
	p.collect(n, what, known, nil, out, true, 0)
	return out
}

// fieldsElsewhere is fields for a mapping that may also hold the keys
// elsewhere, which belong at another level: they are returned for the
// caller to report where they go, and never suggested for a typo.
func (p *parser) fieldsElsewhere(n *yaml.Node, what string, known, elsewhere []string) map[string]field {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return p.fields(n, what, known)
	}
	out := map[string]field{}
	p.collect(n, what, known, elsewhere, out, true, 0)
	return out
}

func (p *parser) collect(n *yaml.Node, what string, known, elsewhere []string, out map[string]field, explicit bool, depth int) {
	if depth > 10 {
		return
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			p.errorf(RuleType, n.Content[i], "keys of %s must be strings, got %s", what, yamlpos.Describe(k))
			continue
		}
		if k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if known != nil && !contains(known, k.Value) && !contains(elsewhere, k.Value) {
			p.errorf(RuleUnknownKey, k, "unknown key %q in %s%s", k.Value, what, didYouMean(k.Value, known))
			continue
		}
		if prev, ok := out[k.Value]; ok {
			if explicit {
				p.errorf(RuleDuplicateKey, k, "key %q in %s is already set at line %d; remove one of them", k.Value, what, prev.key.Line)
			}
			continue
		}
		out[k.Value] = field{key: k, val: v}
	}
	// Merged keys never override explicit ones.
	for _, m := range merges {
		m = deref(m)
		var maps []*yaml.Node
		switch {
		case m != nil && m.Kind == yaml.MappingNode:
			maps = append(maps, m)
		case m != nil && m.Kind == yaml.SequenceNode:
			for _, c := range m.Content {
				if c = deref(c); c != nil && c.Kind == yaml.MappingNode {
					maps = append(maps, c)
				}
			}
		}
		for _, mm := range maps {
			p.collect(mm, what, known, elsewhere, out, false, depth+1)
		}
	}
}

// str reads a scalar as a string. Numbers and booleans are accepted as
// written unless strict is set.
func (p *parser) str(f field, what string) string {
	v := deref(f.val)
	if v == nil || v.Kind != yaml.ScalarNode {
		p.errorf(RuleType, pos(f), "%s must be a string, got %s", what, yamlpos.Describe(v))
		return ""
	}
	if v.Tag == "!!null" {
		return ""
	}
	if !p.safeScalar(v, what) {
		return ""
	}
	return v.Value
}

// safeScalar reports whether a scalar may reach a generated workflow: on
// one line (a newline in an env value, an input or a name would start a
// new YAML key or a new shell line in the generated file), and holding no
// ${{ }} expression but vars.NAME and secrets.NAME. Every value of the spec
// is read through str, so this is the one check; a value that fails it is
// reported at its position and dropped.
func (p *parser) safeScalar(v *yaml.Node, what string) bool {
	if strings.ContainsAny(v.Value, "\r\n") {
		p.errorf(RuleValue, v, "%s must be a single line; remove the line break", what)
		return false
	}
	ok := true
	for _, m := range exprRe.FindAllStringSubmatch(v.Value, -1) {
		if !trustedExprRe.MatchString(m[1]) {
			p.errorf(RuleExpression, v, "%s holds %q, which whoever opens a pull request may choose, and the value reaches a step's env or inputs; use a literal, \"${{ vars.NAME }}\" or \"${{ secrets.NAME }}\"", what, m[0])
			ok = false
		}
	}
	if strings.Count(v.Value, "${{") != len(exprRe.FindAllString(v.Value, -1)) {
		p.errorf(RuleExpression, v, "%s holds an unterminated \"${{\"; write a literal or \"${{ vars.NAME }}\"", what)
		ok = false
	}
	return ok
}

// required reads a string that must be present and non-empty.
func (p *parser) required(m map[string]field, key, what string, at *yaml.Node) (string, *yaml.Node) {
	f, ok := m[key]
	if !ok {
		p.errorf(RuleRequired, at, "%s is missing; add %s:", what, key)
		return "", nil
	}
	v := p.str(f, what)
	if v == "" && isScalar(f.val) && deref(f.val).Value == "" {
		p.errorf(RuleRequired, pos(f), "%s is empty; set %s:", what, key)
	}
	return v, pos(f)
}

func (p *parser) boolean(f field, what string) bool {
	v := deref(f.val)
	if v == nil || v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
		p.errorf(RuleType, pos(f), "%s must be true or false, got %s", what, yamlpos.Describe(v))
		return false
	}
	b, _ := strconv.ParseBool(strings.ToLower(v.Value))
	return b
}

func (p *parser) minutes(f field, what string) int {
	v := deref(f.val)
	if v == nil || v.Kind != yaml.ScalarNode || v.Tag != "!!int" {
		p.errorf(RuleType, pos(f), "%s must be a whole number of minutes, got %s", what, yamlpos.Describe(v))
		return 0
	}
	n, err := strconv.Atoi(v.Value)
	if err != nil || n < 1 || n > 360 {
		p.errorf(RuleValue, v, "%s is %q; use a number of minutes from 1 to 360", what, v.Value)
		return 0
	}
	return n
}

// list reads a sequence of strings; a single string is accepted as a
// one-element list.
func (p *parser) list(f field, what string) []JobRef {
	v := deref(f.val)
	if v == nil {
		p.errorf(RuleType, pos(f), "%s must be a list of strings, got nothing", what)
		return nil
	}
	if v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
		if !p.safeScalar(v, what) {
			return nil
		}
		return []JobRef{{Name: v.Value, Line: v.Line, Column: v.Column}}
	}
	if v.Kind == yaml.ScalarNode {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		p.errorf(RuleType, v, "%s must be a list of strings, got %s", what, yamlpos.Describe(v))
		return nil
	}
	var out []JobRef
	for _, c := range v.Content {
		c = deref(c)
		if c == nil || c.Kind != yaml.ScalarNode || c.Tag == "!!null" {
			p.errorf(RuleType, orNode(c, v), "entries of %s must be strings, got %s", what, yamlpos.Describe(c))
			continue
		}
		if !p.safeScalar(c, what) {
			continue
		}
		out = append(out, JobRef{Name: c.Value, Line: c.Line, Column: c.Column})
	}
	return out
}

func orNode(n, fallback *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return fallback
}

func isBool(n *yaml.Node) bool {
	n = deref(n)
	return n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!bool"
}

func isScalar(n *yaml.Node) bool {
	n = deref(n)
	return n != nil && n.Kind == yaml.ScalarNode
}

// pos returns the node a finding about f should point at: its value when
// it has a position, else its key.
func pos(f field) *yaml.Node {
	if v := deref(f.val); v != nil && v.Line > 0 {
		if v.Tag == "!!null" && v.Value == "" {
			return f.key
		}
		return v
	}
	return f.key
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func didYouMean(s string, known []string) string {
	if best, ok := diag.Closest(s, known); ok {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	return fmt.Sprintf("; valid keys are %q", sorted)
}
