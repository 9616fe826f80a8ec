package gen

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

const specPath = ".github/pipeline.yaml"

func parse(t *testing.T, data []byte) *spec.Spec {
	t.Helper()
	s, findings := spec.Parse(specPath, data)
	if findings.AtLeast(diag.Error) {
		t.Fatalf("spec findings: %v", findings)
	}
	return s
}

// TestGolden pins the six workflows generated from the example spec.
func TestGolden(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files, err := Generate(parse(t, data), specPath)
	if err != nil {
		t.Fatal(err)
	}
	wantNames := []string{"deploy-cicd.yml", "lint-cicd-workflow-files.yml", "rag_chatbot-bundle-cd-prod.yml",
		"rag_chatbot-bundle-cd-staging.yml", "rag_chatbot-bundle-ci.yml", "rag_chatbot-run-tests.yml"}
	if diff := cmp.Diff(wantNames, sortedKeys(files)); diff != "" {
		t.Fatalf("file names (-want +got):\n%s", diff)
	}
	for _, name := range wantNames {
		golden := filepath.Join("testdata", "golden", name)
		if *update {
			if err := os.WriteFile(golden, files[name], 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(files[name])); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

const targetsOIDCPATM2M = `targets:
  test: {environment: test, auth: {type: github-oidc, client-id: "${{ vars.TEST_ID }}", audience: https://example.com}}
  staging: {environment: staging, host: https://staging.example.com, auth: {type: pat, token-secret: STAGING_TOKEN}}
  prod: {environment: production, auth: {type: oauth-m2m, client-id: "${{ vars.PROD_ID }}", client-secret-secret: PROD_SECRET}}
`

// TestVariants generates workflows for spec variants and asserts that
// actionlint finds nothing, that regenerating is byte-identical, and what
// each variant must contain.
func TestVariants(t *testing.T) {
	t.Parallel()
	actionYAML, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		spec     string
		contains map[string][]string
		absent   map[string][]string
		files    int
	}{
		{
			name: "every auth type with integration",
			spec: "project: rag_chatbot\nbundle: bundle\naction: ./\n" + targetsOIDCPATM2M +
				"tests:\n  unit: {python: \"3.10\", requirements: requirements.txt}\n  integration: {target: test, jobs: [a, b], cleanup: false}\nrelease: {run: [a]}\n",
			files: 6,
			contains: map[string][]string{
				"rag_chatbot-run-tests.yml":         {"python-version: \"3.10\"", "id-token: write", "DATABRICKS_AUTH_TYPE: github-oidc", "DATABRICKS_TOKEN_AUDIENCE: https://example.com", "jobs: a,b", "cleanup: false", "needs:\n      - unit-tests"},
				"rag_chatbot-bundle-cd-staging.yml": {"DATABRICKS_HOST: https://staging.example.com", "DATABRICKS_TOKEN: ${{ secrets.STAGING_TOKEN }}", "group: rag_chatbot-deploy-staging\n      cancel-in-progress: false", "branches:\n      - main"},
				"rag_chatbot-bundle-cd-prod.yml":    {"environment: production", "DATABRICKS_CLIENT_ID: ${{ vars.PROD_ID }}", "DATABRICKS_CLIENT_SECRET: ${{ secrets.PROD_SECRET }}", "mode: run", "branches:\n      - release"},
			},
			absent: map[string][]string{"rag_chatbot-bundle-cd-prod.yml": {"id-token"}},
		},
		{
			name: "azure without tests, custom branches, hyphenated project",
			spec: "project: my-proj\nbundle: .\naction: ./\nbranches: {default: develop, release: prod/v2}\n" +
				"targets:\n  staging: {auth: {type: azure-sp, client-id-secret: ARM_ID, client-secret-secret: ARM_SECRET, tenant-id-secret: ARM_TENANT}}\n  prod: {auth: {type: github-oidc, client-id: 00000000-0000-0000-0000-000000000000}}\n",
			files: 5,
			contains: map[string][]string{
				"my-proj-bundle-cd-staging.yml": {"ARM_CLIENT_ID: ${{ secrets.ARM_ID }}", "ARM_TENANT_ID: ${{ secrets.ARM_TENANT }}", "DATABRICKS_AUTH_TYPE: azure-client-secret", "- develop", "- \"**\""},
				"my-proj-bundle-cd-prod.yml":    {"- prod/v2", "id-token: write"},
			},
			absent: map[string][]string{"my-proj-bundle-cd-prod.yml": {"mode: run"}},
		},
		{
			name: "sha-pinned remote action with unit tests only",
			spec: "project: p\nbundle: b\naction: acme/brickci@0123456789abcdef0123456789abcdef01234567 # v1.4.0\ngenerate: {token-secret: WORKFLOW_TOKEN}\n" + targetsOIDCPATM2M +
				"tests: {unit: {command: pytest -q, junit: out/junit.xml}}\n",
			files: 6,
			contains: map[string][]string{
				"p-run-tests.yml":      {"uses: acme/brickci@0123456789abcdef0123456789abcdef01234567 # v1.4.0", "junit: out/junit.xml", "python-version: \"3.11\""},
				"deploy-cicd.yml":      {"token: ${{ secrets.WORKFLOW_TOKEN }}", "github_token: ${{ secrets.WORKFLOW_TOKEN }}", "contents: write"},
				"p-bundle-cd-prod.yml": {"DATABRICKS_CLIENT_ID: ${{ vars.PROD_ID }}"},
			},
			absent: map[string][]string{"p-run-tests.yml": {"integration-tests", "Install requirements"}, "lint-cicd-workflow-files.yml": {"action.yml"}},
		},
		{
			name:  "tag-pinned remote action",
			spec:  "project: p\nbundle: b\naction: acme/brickci@v1.4.0\n" + targetsOIDCPATM2M,
			files: 5,
			contains: map[string][]string{
				"p-bundle-ci.yml": {"uses: acme/brickci@v1.4.0\n", "pull-requests: write", "comment: true", "offline: true"},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := parse(t, []byte(c.spec))
			files, err := Generate(s, specPath)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != c.files {
				t.Errorf("got %d files %q, want %d", len(files), sortedKeys(files), c.files)
			}
			again, err := Generate(parse(t, []byte(c.spec)), specPath)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(files, again); diff != "" {
				t.Errorf("regeneration differs (-first +second):\n%s", diff)
			}
			root := t.TempDir()
			if err := os.WriteFile(filepath.Join(root, "action.yml"), actionYAML, 0o644); err != nil {
				t.Fatal(err)
			}
			findings, err := Lint(files, root, s.Action, ".github/workflows")
			if err != nil {
				t.Fatal(err)
			}
			if len(findings) != 0 {
				t.Errorf("actionlint findings:\n%v", findings)
			}
			for name, data := range files {
				assertExemplary(t, name, string(data))
			}
			for name, wants := range c.contains {
				for _, w := range wants {
					if !strings.Contains(string(files[name]), w) {
						t.Errorf("%s lacks %q:\n%s", name, w, files[name])
					}
				}
			}
			for name, nots := range c.absent {
				for _, n := range nots {
					if strings.Contains(string(files[name]), n) {
						t.Errorf("%s contains %q", name, n)
					}
				}
			}
		})
	}
}

// assertExemplary checks the rules every generated workflow follows.
func assertExemplary(t *testing.T, name, body string) {
	t.Helper()
	if !strings.Contains(body, "\npermissions: {}\n") {
		t.Errorf("%s: no top-level permissions: {}", name)
	}
	if strings.Count(body, "\n    runs-on: ") != strings.Count(body, "\n    timeout-minutes: ") {
		t.Errorf("%s: a job lacks timeout-minutes", name)
	}
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "uses: actions/") || strings.HasPrefix(trimmed, "uses: github/") {
			if !strings.Contains(trimmed, " # v") || len(strings.SplitN(strings.Fields(trimmed)[1], "@", 2)[1]) != 40 {
				t.Errorf("%s: %q is not pinned by sha with a version comment", name, trimmed)
			}
		}
	}
	if name != DeployCICDFile && strings.Count(body, "uses: actions/checkout@") != strings.Count(body, "persist-credentials: false") {
		t.Errorf("%s: a checkout keeps its credentials", name)
	}
	if strings.Contains(body, "contents: write") && name != DeployCICDFile {
		t.Errorf("%s: grants contents: write", name)
	}
	if strings.Contains(body, "security-events: write") && name != LintFile {
		t.Errorf("%s: grants security-events: write", name)
	}
	// No ${{ github.event.* }} in run: scripts: every run: block is
	// expression free in generated files.
	inRun := false
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "run:") {
			inRun = true
		} else if inRun && strings.HasPrefix(strings.TrimSpace(line), "- ") {
			inRun = false
		}
		if inRun && strings.Contains(line, "${{") {
			t.Errorf("%s: expression inside run: %q", name, line)
		}
	}
}

func TestGenerateRequiresTargets(t *testing.T) {
	t.Parallel()
	if _, err := Generate(&spec.Spec{Project: "p"}, specPath); err == nil {
		t.Error("generated without staging and prod")
	}
	if _, err := Generate(nil, specPath); err == nil {
		t.Error("generated without a spec")
	}
}

// TestRepositoryInSync fails when this repository's committed workflows
// differ from .github/pipeline.yaml: run "go generate ./..." to fix it.
func TestRepositoryInSync(t *testing.T) {
	t.Parallel()
	drifts, findings, err := Check("../..", specPath, ".github/workflows")
	if err != nil {
		t.Fatal(err)
	}
	if findings.AtLeast(diag.Warning) {
		t.Fatalf("spec findings: %v", findings)
	}
	for _, d := range drifts {
		t.Errorf("%s: %s; run \"go generate ./...\"\n%s", d.File, d.Kind, d.Diff)
	}
}

func TestDriftFindingsSorted(t *testing.T) {
	t.Parallel()
	got := Findings([]Drift{{File: "w/b.yml", Kind: Stale}, {File: "w/a.yml", Kind: EditedByHand}, {File: "w/c.yml", Kind: Missing}, {File: "w/d.yml", Kind: SpecChanged}})
	var rules, files []string
	for _, f := range got {
		rules = append(rules, f.Rule)
		files = append(files, f.File)
	}
	if !sort.StringsAreSorted(files) || cmp.Diff([]string{"drift", "drift", "drift", "drift"}, rules) != "" {
		t.Errorf("findings = %v", got)
	}
	if !strings.Contains(got[0].Message, "edited by hand") || !strings.Contains(got[3].Message, "the spec changed") {
		t.Errorf("messages do not say the kind: %v", got)
	}
}

// A target's plan-environment moves only the pull-request plan job there:
// deploys keep the target's environment and its approvals.
func TestPlanEnvironment(t *testing.T) {
	t.Parallel()
	src := `project: demo
bundle: .
action: ./
targets:
  staging: {environment: staging, auth: {type: pat, token-secret: S}}
  prod: {environment: prod, plan-environment: prod-plan, auth: {type: pat, token-secret: P}}
`
	s, findings := spec.Parse("pipeline.yaml", []byte(src))
	if findings.AtLeast(diag.Error) {
		t.Fatal(findings)
	}
	files, err := Generate(s, "pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ci, cd := string(files["demo-bundle-ci.yml"]), string(files["demo-bundle-cd-prod.yml"])
	if !strings.Contains(ci, "  plan-prod:\n    name: Plan prod\n    runs-on: ubuntu-latest\n    needs:\n      - validate\n") || !strings.Contains(ci, "environment: prod-plan\n") {
		t.Errorf("plan-prod does not run in prod-plan:\n%s", ci)
	}
	if !strings.Contains(ci, "environment: staging\n") {
		t.Errorf("plan-staging left its environment:\n%s", ci)
	}
	if strings.Contains(cd, "prod-plan") || !strings.Contains(cd, "environment: prod\n") {
		t.Errorf("the prod deploy moved environment:\n%s", cd)
	}
}
