package spec

import (
	"regexp"

	"gopkg.in/yaml.v3"
)

// packageRe is a pip requirement specifier without spaces, quotes or shell
// syntax: a name, optional extras and version constraints
// ("build", "setuptools>=68", "wheel==0.43.0", "pkg[extra]").
var packageRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?([<>=!~]=?[A-Za-z0-9.*+!-]+(,[<>=!~]=?[A-Za-z0-9.*+!-]+)*)?$`)

// build reads the build block: the Python that artifact builds need.
func (p *parser) build(f field, s *Spec) {
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
