package lint

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/brickci/brickci/internal/diag"
)

var update = flag.Bool("update", false, "rewrite golden files")

func noTools(string) (string, error) { return "", errors.New("not found") }

// lines renders findings as the text lines the .out files hold.
func lines(l diag.List) string {
	var b strings.Builder
	for _, f := range l {
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func only(l diag.List, rule string) diag.List {
	var out diag.List
	for _, f := range l {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// TestRuleCases runs every testdata/<rule>/ case: bad_*.yml must report
// exactly the lines of bad_*.out for that rule; good_*.yml must report
// nothing for it.
func TestRuleCases(t *testing.T) {
	t.Parallel()
	dirs, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, r := range brickciRules {
		known[r.id] = true
	}
	covered := map[string]bool{}
	for _, d := range dirs {
		if !d.IsDir() || !known[d.Name()] {
			continue
		}
		rule := d.Name()
		covered[rule] = true
		cases, err := filepath.Glob(filepath.Join("testdata", rule, "*.yml"))
		if err != nil {
			t.Fatal(err)
		}
		var bad, good int
		for _, c := range cases {
			name := filepath.Base(c)
			isBad := strings.HasPrefix(name, "bad_")
			if isBad {
				bad++
			} else if strings.HasPrefix(name, "good_") {
				good++
			} else {
				continue
			}
			t.Run(rule+"/"+name, func(t *testing.T) {
				t.Parallel()
				got, err := Run(context.Background(), Options{Root: filepath.Join("testdata", rule), Paths: []string{name}, LookPath: noTools})
				if err != nil {
					t.Fatal(err)
				}
				if !isBad {
					if f := only(got, rule); len(f) > 0 {
						t.Errorf("want no %s findings, got:\n%s", rule, lines(f))
					}
					if rule == ruleSuppression {
						for _, f := range got {
							if f.Rule != "external-tools" {
								t.Errorf("suppressed finding still reported: %s", f)
							}
						}
					}
					return
				}
				f := only(got, rule)
				if len(f) == 0 {
					t.Fatalf("bad case reported no %s finding; all findings:\n%s", rule, lines(got))
				}
				out := strings.TrimSuffix(c, ".yml") + ".out"
				if *update {
					if err := os.WriteFile(out, []byte(lines(f)), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(out)
				if err != nil {
					t.Fatalf("failed to read expected lines (run with -update): %v", err)
				}
				if diff := cmp.Diff(string(want), lines(f)); diff != "" {
					t.Errorf("%s findings (-want +got):\n%s", rule, diff)
				}
			})
		}
		if bad == 0 || good == 0 {
			t.Errorf("rule %s needs at least one bad_ and one good_ case, has %d and %d", rule, bad, good)
		}
	}
	for id := range known {
		if id != "external-tools" && !covered[id] {
			t.Errorf("rule %s has no testdata/%s cases", id, id)
		}
	}
}

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConcurrencyCollisionAcrossFiles(t *testing.T) {
	t.Parallel()
	const ci = `name: ci
on: pull_request
concurrency: 1
permissions: {}
jobs:
  validate:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: make validate
`
	const cd = `name: cd
on:
  push:
    branches: [main]
permissions: {}
jobs:
  deploy:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    concurrency: %s
    steps:
      - run: databricks bundle deploy -t staging
`
	cases := []struct {
		name, group string
		want        []string
	}{
		{"shared literal", "1", []string{`.github/workflows/ci.yml:3:14: concurrency group "1" of pull-request job "validate" is also used by deploy job "deploy" (.github/workflows/cd.yml:10), so a pull request can cancel or hold up a deploy; give deploys their own group, e.g. deploy-<target> [concurrency-collision]`}},
		{"own group", "deploy-staging", nil},
		{"per ref", "${{ github.ref }}", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			write(t, dir, map[string]string{
				".github/workflows/ci.yml": ci,
				".github/workflows/cd.yml": strings.Replace(cd, "%s", c.group, 1),
			})
			got, err := Run(context.Background(), Options{Root: dir, LookPath: noTools})
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, f := range only(got, ruleConcurrencyCollision) {
				msgs = append(msgs, f.String())
			}
			if diff := cmp.Diff(c.want, msgs); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAllowTags(t *testing.T) {
	t.Parallel()
	root := filepath.Join("testdata", ruleUnpinnedAction)
	got, err := Run(context.Background(), Options{Root: root, Paths: []string{"bad_tag.yml"}, AllowTags: true, LookPath: noTools})
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, f := range only(got, ruleUnpinnedAction) {
		refs = append(refs, fmt.Sprintf("%s:%d", f.File, f.Line))
	}
	// The tags on lines 9 and 13 are accepted; the branch and the
	// undigested image are not.
	if diff := cmp.Diff([]string{"bad_tag.yml:10", "bad_tag.yml:11"}, refs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func itoa(n int) string { return fmt.Sprintf("%02d", n) }

func TestExternalToolsReportedOnce(t *testing.T) {
	t.Parallel()
	root := filepath.Join("testdata", ruleTimeout)
	// A stand-in shellcheck that finds nothing.
	fake := filepath.Join(t.TempDir(), "shellcheck")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\ncat >/dev/null\necho '[]'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		lookPath func(string) (string, error)
		want     []string
	}{
		{"none", noTools, []string{"shellcheck and pyflakes not found on PATH, so scripts in run: were not checked by them; install shellcheck and pyflakes to enable these checks"}},
		{"nil lookPath", nil, []string{"shellcheck and pyflakes not found on PATH, so scripts in run: were not checked by them; install shellcheck and pyflakes to enable these checks"}},
		{"pyflakes only missing", func(f string) (string, error) {
			if f == "shellcheck" {
				return fake, nil
			}
			return "", errors.New("no")
		}, []string{"pyflakes not found on PATH, so scripts in run: were not checked by them; install pyflakes to enable these checks"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := Run(context.Background(), Options{Root: root, LookPath: c.lookPath, Paths: []string{"."}})
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, f := range only(got, "external-tools") {
				if f.Severity != diag.Info || f.File != "" {
					t.Errorf("want a file-less info finding, got %s", f)
				}
				msgs = append(msgs, f.Message)
			}
			if diff := cmp.Diff(c.want, msgs); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestActionMetadata(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"action.yml": `name: x
description: x
runs:
  using: composite
  steps:
    - uses: actions/setup-python@v5
      with:
        python-version: 3.10
    - shell: bash
      run: |
        curl -sSL https://raw.githubusercontent.com/o/r/master/x.sh | bash
        echo "${{ github.event.pull_request.title }}"
`,
		"sub/action.yaml":     "name: broken\nruns: [\n",
		"testdata/action.yml": "not: linted\n",
	})
	got, err := Run(context.Background(), Options{Root: dir, LookPath: noTools})
	if err != nil {
		t.Fatal(err)
	}
	var short []string
	for _, f := range got {
		if f.Rule != "external-tools" {
			short = append(short, f.File+":"+itoa(f.Line)+" "+f.Rule)
		}
	}
	want := []string{
		"action.yml:06 unpinned-action",
		"action.yml:08 float-version",
		"action.yml:11 remote-script",
		"action.yml:12 injection",
		"sub/action.yaml:03 syntax-check",
	}
	if diff := cmp.Diff(want, short); diff != "" {
		t.Errorf("(-want +got):\n%s\nall:\n%s", diff, lines(got))
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"missing path", Options{Root: "testdata", Paths: []string{"nope.yml"}}, `failed to read path "nope.yml"`},
		{"nothing to lint", Options{Root: empty}, "no workflow or action files found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Run(context.Background(), c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestRulesDocumented(t *testing.T) {
	t.Parallel()
	docs := Rules()
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		if d.Short == "" || d.Help == "" && !strings.HasPrefix(d.Short, "actionlint") && !strings.Contains(d.Short, ":") {
			t.Errorf("rule %s lacks docs: %+v", d.ID, d)
		}
		ids = append(ids, d.ID)
	}
	if !sort.StringsAreSorted(ids) {
		t.Errorf("rules not sorted: %v", ids)
	}
	for _, r := range brickciRules {
		if i := sort.SearchStrings(ids, r.id); i == len(ids) || ids[i] != r.id {
			t.Errorf("brickci rule %s missing from Rules()", r.id)
		}
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	opts := Options{Root: "testdata", Paths: []string{"."}, LookPath: noTools}
	a, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lines(a), lines(b)); diff != "" {
		t.Errorf("two runs differ:\n%s", diff)
	}
}
