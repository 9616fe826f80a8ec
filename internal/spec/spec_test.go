package spec

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/brickci/brickci/internal/diag"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestBadSpecs parses each testdata/bad/<case>.yaml and compares every
// finding, one per line, with <case>.out.
func TestBadSpecs(t *testing.T) {
	t.Parallel()
	cases, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 9 {
		t.Fatalf("found only %d bad cases", len(cases))
	}
	for _, path := range cases {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, findings := Parse(filepath.Base(path), data)
			if len(findings) == 0 {
				t.Fatal("no findings for a bad spec")
			}
			var b strings.Builder
			for _, f := range findings {
				b.WriteString(f.String() + "\n")
			}
			golden := strings.TrimSuffix(path, ".yaml") + ".out"
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), b.String()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseExample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/good/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, findings := Parse("pipeline.yaml", data)
	if len(findings) != 0 {
		t.Fatalf("unexpected findings: %v", findings)
	}
	want := &Spec{
		File:     "pipeline.yaml",
		SHA256:   Hash(data),
		Project:  "rag_chatbot",
		Bundle:   "examples/rag-chatbot",
		Branches: Branches{Default: "main", Release: "release"},
		Action:   "./",
		Runner:   "ubuntu-latest",
		Targets: []Target{
			{Name: "test", Environment: "test", Plan: true, PlanEnvironment: "test-plan", Auth: Auth{Type: AuthGitHubOIDC, ClientID: "${{ vars.TEST_SP_CLIENT_ID }}"}},
			{Name: "staging", Environment: "staging", Plan: true, PlanEnvironment: "staging-plan", Auth: Auth{Type: AuthPAT, TokenSecret: "STAGING_WORKSPACE_TOKEN"}},
			{Name: "prod", Environment: "prod", Plan: true, PlanEnvironment: "prod-plan", Auth: Auth{Type: AuthOAuthM2M, ClientIDSecret: "PROD_SP_CLIENT_ID", ClientSecretSecret: "PROD_SP_CLIENT_SECRET"}},
		},
		Tests: Tests{
			Unit:        &UnitTests{Python: "3.11", Requirements: "requirements.txt", Command: "pytest tests/unit"},
			Integration: &Integration{Target: "test", Jobs: []JobRef{{Name: "model_workflow"}}, Cleanup: true},
		},
		Release:  Release{Run: []JobRef{{Name: "model_workflow"}}},
		Timeouts: DefaultTimeouts,
	}
	// A spec without projects: is one project, the same as its top-level
	// fields.
	if len(s.Projects) != 1 || s.MultiProject {
		t.Fatalf("projects = %d, multi %v; want one", len(s.Projects), s.MultiProject)
	}
	pr := s.Projects[0]
	flat := Project{Name: s.Project, Line: 3, Column: 10, Bundle: s.Bundle, BundleLine: s.BundleLine, BundleColumn: s.BundleColumn,
		Targets: s.Targets, Tests: s.Tests, Release: s.Release, Paths: s.Paths, DependsOn: s.DependsOn, Timeouts: s.Timeouts,
		Build: s.Build, SkipUnsupported: s.SkipUnsupported}
	if diff := cmp.Diff(flat, pr); diff != "" {
		t.Errorf("Projects[0] differs from the top-level fields (-flat +project):\n%s", diff)
	}
	// Positions are checked separately below.
	got := *s
	got.Projects = nil
	got.BundleLine, got.BundleColumn = 0, 0
	got.Generate.Line, got.Generate.Column = 0, 0
	got.Targets = append([]Target(nil), s.Targets...)
	for i := range got.Targets {
		got.Targets[i].Line, got.Targets[i].Column = 0, 0
	}
	in := *s.Tests.Integration
	in.TargetLine, in.TargetColumn = 0, 0
	in.Jobs = []JobRef{{Name: in.Jobs[0].Name}}
	got.Tests.Integration = &in
	got.Release.Run = []JobRef{{Name: s.Release.Run[0].Name}}
	if diff := cmp.Diff(want, &got); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}
	if tg := s.Targets[1]; tg.Line != 16 || tg.Column != 3 {
		t.Errorf("staging at %d:%d, want 16:3", tg.Line, tg.Column)
	}
	if j := s.Release.Run[0]; j.Line != 37 || j.Column != 9 {
		t.Errorf("release job at %d:%d, want 37:9", j.Line, j.Column)
	}
	// Without a generate key, findings about deploy-cicd point at the
	// spec's first key.
	if s.Generate.Line != 3 || s.Generate.Column != 1 {
		t.Errorf("generate at %d:%d, want 3:1", s.Generate.Line, s.Generate.Column)
	}
	if s.BundleLine != 4 || s.BundleColumn != 9 {
		t.Errorf("bundle at %d:%d, want 4:9", s.BundleLine, s.BundleColumn)
	}
}

func TestParseVariants(t *testing.T) {
	t.Parallel()
	const targets = "targets:\n  staging: {auth: {type: pat, token-secret: S}}\n  prod: {auth: {type: pat, token-secret: P}}\n"
	cases := []struct {
		name  string
		yaml  string
		check func(t *testing.T, s *Spec)
	}{
		{"sha pin with version comment", "project: p\naction: acme/brickci@0123456789abcdef0123456789abcdef01234567 # v1.2.3\n" + targets, func(t *testing.T, s *Spec) {
			if s.ActionVersion != "v1.2.3" {
				t.Errorf("action version = %q", s.ActionVersion)
			}
		}},
		{"anchors and merge keys", "project: p\naction: ./\nbase: &b {auth: {type: pat, token-secret: S}}\n", nil},
		{"merge key in target", "project: p\naction: ./\ntargets:\n  staging: &s {auth: {type: pat, token-secret: S}}\n  prod:\n    <<: *s\n    environment: production\n", func(t *testing.T, s *Spec) {
			p, _ := s.Target("prod")
			if p.Environment != "production" || p.Auth.TokenSecret != "S" {
				t.Errorf("prod = %+v", p)
			}
		}},
		{"defaults", "project: p\naction: ./\n" + targets + "tests: {integration: {jobs: [j]}}\n", nil},
		{"plan environments", "project: p\naction: ./\ntargets:\n  staging: {environment: stage, auth: {type: pat, token-secret: S}}\n  prod: {plan-environment: prod-readonly, auth: {type: pat, token-secret: P}}\n  test: {plan: false, auth: {type: pat, token-secret: T}}\n", func(t *testing.T, s *Spec) {
			want := map[string]string{"staging": "stage-plan", "prod": "prod-readonly", "test": "test-plan"}
			for name, env := range want {
				tg, _ := s.Target(name)
				if tg.PlanEnvironment != env || tg.Plan != (name != "test") {
					t.Errorf("%s: plan %v in %q, want %v in %q", name, tg.Plan, tg.PlanEnvironment, name != "test", env)
				}
			}
			if s.Lint.CodeScanning {
				t.Error("code scanning is on without lint.code-scanning")
			}
		}},
		{"code scanning and generate position", "project: p\naction: ./\nlint: {code-scanning: true}\ngenerate: {token-secret: W}\n" + targets, func(t *testing.T, s *Spec) {
			if !s.Lint.CodeScanning {
				t.Error("lint.code-scanning: true was not read")
			}
			if s.Generate.TokenSecret != "W" || s.Generate.Line != 4 || s.Generate.Column != 1 {
				t.Errorf("generate = %+v, want token W at 4:1", s.Generate)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, findings := Parse("p.yaml", []byte(c.yaml))
			switch c.name {
			case "anchors and merge keys":
				found := false
				for _, f := range findings {
					found = found || (f.Rule == RuleUnknownKey && f.Line == 3 && strings.Contains(f.Message, `"base"`))
				}
				if !found {
					t.Fatalf("want an unknown-key finding for \"base\" at line 3, got %v", findings)
				}
				return
			case "defaults":
				// The integration target defaults to "test", which is not defined.
				if len(findings) != 1 || findings[0].Rule != RuleTargetMissing || !strings.Contains(findings[0].Message, `"test"`) {
					t.Fatalf("want one missing-target finding, got %v", findings)
				}
				if s.Tests.Integration.Target != "test" || !s.Tests.Integration.Cleanup || s.Runner != "ubuntu-latest" || s.Branches.Default != "main" {
					t.Errorf("defaults not applied: %+v", s)
				}
				return
			}
			if findings.AtLeast(diag.Warning) {
				t.Fatalf("unexpected findings: %v", findings)
			}
			c.check(t, s)
		})
	}
}

func TestCheckBundle(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	s, findings := Parse("p.yaml", []byte("project: p\nbundle: b\naction: ./\ntargets:\n  staging: {auth: {type: pat, token-secret: S}}\n  prod: {auth: {type: pat, token-secret: P}}\n"))
	if len(findings) != 0 {
		t.Fatal(findings)
	}
	got := s.Check(root)
	want := diag.List{diag.Errorf(RuleBundle, "p.yaml", 2, 9, `bundle directory "b" has no databricks.yml; set bundle: to the directory that holds it`)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := os.MkdirAll(filepath.Join(root, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "b", "databricks.yml"), []byte("bundle: {name: x}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := s.Check(root); len(got) != 0 {
		t.Errorf("unexpected findings with databricks.yml present: %v", got)
	}
}

func TestBadRef(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"main", "release/v1", "feature-x", "a.b"} {
		if why := badRef(ok); why != "" {
			t.Errorf("badRef(%q) = %q, want valid", ok, why)
		}
	}
	for _, bad := range []string{"a..b", "-x", "/a", "a/", "a//b", "a.lock", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[", `a\b`, "@", "a@{1}", "a.", ".a", "x/.a"} {
		if why := badRef(bad); why == "" {
			t.Errorf("badRef(%q) accepted an invalid branch", bad)
		}
	}
}

func TestLoadUnreadable(t *testing.T) {
	t.Parallel()
	if _, _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "failed to read pipeline spec") {
		t.Errorf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/bad", "testdata/good"} {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("---\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, findings := Parse("fuzz.yaml", data)
		if s == nil && len(findings) == 0 {
			t.Fatal("nil spec without a finding")
		}
		for _, fd := range findings {
			if fd.Message == "" || fd.Rule == "" {
				t.Fatalf("finding without message or rule: %+v", fd)
			}
		}
	})
}

// TestParseMonorepo reads a spec with projects: each project takes the
// top level's targets and timeouts unless it sets its own, and the
// repository-wide settings stay at the top.
func TestParseMonorepo(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/good/monorepo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, findings := Parse("pipeline.yaml", data)
	if len(findings) != 0 {
		t.Fatalf("unexpected findings: %v", findings)
	}
	if !s.MultiProject || len(s.Projects) != 2 {
		t.Fatalf("multi %v, %d projects; want two", s.MultiProject, len(s.Projects))
	}
	if s.Project != "" || s.Bundle != "" || len(s.Targets) != 0 {
		t.Errorf("top-level project fields are set in a spec with projects: %q %q %v", s.Project, s.Bundle, s.Targets)
	}
	if s.Timeouts.Lint != 5 || s.Action != "./" || s.Branches.Release != "release" {
		t.Errorf("repository-wide settings not read: %+v", s)
	}
	chat, scoring := s.Projects[0], s.Projects[1]
	type summary struct {
		Name, Bundle      string
		Line, Column      int
		Targets, Auth     []string
		DependsOn         []JobRef
		Deploy, Lint, Run int
		Paths, Skip       []string
		Build             string
	}
	sum := func(p Project) summary {
		out := summary{Name: p.Name, Bundle: p.Bundle, Line: p.Line, Column: p.Column, DependsOn: p.DependsOn, Deploy: p.Timeouts.Deploy, Lint: p.Timeouts.Lint, Run: p.Timeouts.Run, Paths: p.Paths}
		for _, tg := range p.Targets {
			out.Targets = append(out.Targets, tg.Name+"@"+tg.Environment)
			out.Auth = append(out.Auth, tg.Auth.TokenSecret+tg.Auth.ClientID)
		}
		for _, r := range p.SkipUnsupported {
			out.Skip = append(out.Skip, r.Name)
		}
		if p.Build != nil {
			out.Build = p.Build.Python
		}
		return out
	}
	want := []summary{
		{
			Name: "chatbot", Bundle: "bundles/chatbot", Line: 11, Column: 14,
			// prod is the project's own, wholly; staging comes from the top.
			Targets:   []string{"staging@staging", "prod@chatbot-prod", "test@test"},
			Auth:      []string{"STAGING_TOKEN", "CHATBOT_PROD_TOKEN", "${{ vars.TEST_ID }}"},
			DependsOn: []JobRef{{Name: "libs/common", Line: 13, Column: 18}},
			Deploy:    40, Lint: 5, Run: 120,
		},
		{
			Name: "scoring", Bundle: "bundles/scoring", Line: 23, Column: 14,
			Targets:   []string{"staging@staging", "prod@prod"},
			Auth:      []string{"STAGING_TOKEN", "PROD_TOKEN"},
			DependsOn: []JobRef{{Name: "libs/common", Line: 25, Column: 17}},
			Deploy:    15, Lint: 5, Run: 120,
			Paths: []string{"config/scoring/**"}, Skip: []string{"experiments"}, Build: "3.12",
		},
	}
	if diff := cmp.Diff(want, []summary{sum(chat), sum(scoring)}); diff != "" {
		t.Errorf("projects (-want +got):\n%s", diff)
	}
	if in := chat.Tests.Integration; in == nil || in.Target != "test" || len(chat.Release.Run) != 1 || scoring.Tests.Integration != nil {
		t.Errorf("tests and release not read per project: %+v %+v", chat, scoring)
	}
}

func TestProjectAccessors(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/good/monorepo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := Parse("pipeline.yaml", data)
	for name, want := range map[string]bool{"chatbot": true, "scoring": true, "other": false, "": false} {
		p, ok := s.ProjectNamed(name)
		if ok != want || (ok && p.Name != name) {
			t.Errorf("ProjectNamed(%q) = %v, %v; want found %v", name, p, ok, want)
		}
	}
	for dir, want := range map[string]string{
		"bundles/chatbot":               "chatbot",
		"bundles/chatbot/resources":     "chatbot",
		"./bundles/scoring/":            "scoring",
		"bundles\\scoring\\src":         "scoring",
		"bundles/chatbot-v2":            "",
		"bundles":                       "",
		"libs/common":                   "",
		".":                             "",
		"bundles/chatbot/../scoring/nb": "scoring",
	} {
		p, ok := s.ProjectFor(dir)
		got := ""
		if ok {
			got = p.Name
		}
		if got != want {
			t.Errorf("ProjectFor(%q) = %q, want %q", dir, got, want)
		}
	}
	// A project is returned by reference: callers see the spec's values.
	if p, _ := s.ProjectNamed("chatbot"); p != &s.Projects[0] {
		t.Error("ProjectNamed returned a copy")
	}
	// A single project at the root holds every directory.
	single, _ := Parse("p.yaml", []byte("project: p\naction: ./\ntargets:\n  staging: {auth: {type: pat, token-secret: S}}\n  prod: {auth: {type: pat, token-secret: P}}\n"))
	if p, ok := single.ProjectFor("any/dir"); !ok || p.Name != "p" {
		t.Errorf("ProjectFor in a root bundle = %v, %v", p, ok)
	}
}

// Check looks for every project's databricks.yml and every directory a
// project depends on.
func TestCheckProjects(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/good/monorepo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := Parse("pipeline.yaml", data)
	root := t.TempDir()
	want := diag.List{
		diag.Errorf(RuleBundle, "pipeline.yaml", 12, 13, `bundle directory "bundles/chatbot" has no databricks.yml; set bundle: to the directory that holds it`),
		diag.Errorf(RuleDependsOn, "pipeline.yaml", 13, 18, `depends-on directory "libs/common" does not exist in the repository; name a directory relative to the repository root`),
		diag.Errorf(RuleBundle, "pipeline.yaml", 24, 13, `bundle directory "bundles/scoring" has no databricks.yml; set bundle: to the directory that holds it`),
		diag.Errorf(RuleDependsOn, "pipeline.yaml", 25, 17, `depends-on directory "libs/common" does not exist in the repository; name a directory relative to the repository root`),
	}
	if diff := cmp.Diff(want, s.Check(root)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, dir := range []string{"bundles/chatbot", "bundles/scoring"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, dir, "databricks.yml"), []byte("bundle: {name: x}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A file is not a directory to depend on.
	if err := os.MkdirAll(filepath.Join(root, "libs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "libs", "common"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := s.Check(root); len(got) != 2 || got[0].Rule != RuleDependsOn {
		t.Errorf("with a file at libs/common: %v", got)
	}
	if err := os.Remove(filepath.Join(root, "libs", "common")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "libs", "common"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := s.Check(root); len(got) != 0 {
		t.Errorf("unexpected findings: %v", got)
	}
}
