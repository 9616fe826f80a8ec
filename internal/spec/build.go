package spec

import (
	"regexp"

	"gopkg.in/yaml.v3"
)

// resourceTypeRe is the shape of a bundle resource type (registered_models).
var resourceTypeRe = regexp.MustCompile(`^[a-z][a-z_]*$`)

// packageRe is a pip requirement specifier without spaces, quotes or shell
// syntax: a name, optional extras and version constraints
// ("build", "setuptools>=68", "wheel==0.43.0", "pkg[extra]").
var packageRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?([<>=!~]=?[A-Za-z0-9.*+!-]+(,[<>=!~]=?[A-Za-z0-9.*+!-]+)*)?$`)

// build reads the build block: the Python that artifact builds need.
func (p *parser) build(f field, s *Project) {
	m := p.fields(f.val, "build", buildKeys)
	if m == nil {
		return
	}
	b := &Build{Python: "3.11", Packages: DefaultBuildPackages}
	if pf, ok := m["python"]; ok {
		b.Python = p.python(pf, "build.python")
	}
	if lf, ok := m["packages"]; ok {
		b.Packages = nil
		for _, r := range p.list(lf, "build.packages") {
			if !packageRe.MatchString(r.Name) {
				p.errorf(RuleValue, &yaml.Node{Line: r.Line, Column: r.Column}, "build package %q is not a pip requirement such as build or setuptools>=68; write one name and optional version per entry", r.Name)
				continue
			}
			b.Packages = append(b.Packages, r.Name)
		}
	}
	s.Build = b
}

// skipUnsupported reads skip-unsupported: resource types the generated
// plans, integration tests and deploys leave out. Whether brickci deploys
// a type is for the binary to say (validate checks it); here only the
// shape is checked, since the value reaches a step's input.
func (p *parser) skipUnsupported(f field, s *Project) {
	seen := map[string]bool{}
	for _, r := range p.list(f, "skip-unsupported") {
		at := &yaml.Node{Line: r.Line, Column: r.Column}
		switch {
		case !resourceTypeRe.MatchString(r.Name):
			p.errorf(RuleValue, at, "skip-unsupported entry %q is not a resource type such as experiments or registered_models", r.Name)
		case seen[r.Name]:
			p.errorf(RuleValue, at, "resource type %q is listed twice in skip-unsupported; remove one", r.Name)
		default:
			seen[r.Name] = true
			s.SkipUnsupported = append(s.SkipUnsupported, r)
		}
	}
}
