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
	// Positions are checked separately below.
	got := *s
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
