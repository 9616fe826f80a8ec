package gen

import (
	"errors"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
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
	if diff := cmp.Diff(wantNames, slices.Sorted(maps.Keys(files))); diff != "" {
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
			name:  "code scanning, no plans, branch guards",
			spec:  "project: p\nbundle: b\naction: ./\nlint: {code-scanning: true}\nbranches: {default: develop, release: stable}\ntargets:\n  staging: {plan: false, auth: {type: pat, token-secret: S}}\n  prod: {plan: false, auth: {type: pat, token-secret: P}}\n",
			files: 5,
			contains: map[string][]string{
				"lint-cicd-workflow-files.yml": {"security-events: write", "sarif_file: brickci-lint.sarif"},
				"p-bundle-cd-staging.yml":      {"if: github.ref == 'refs/heads/develop'"},
				"p-bundle-cd-prod.yml":         {"if: github.ref == 'refs/heads/stable'"},
			},
			absent: map[string][]string{"p-bundle-ci.yml": {"plan-staging", "plan-prod", "environment:", "secrets."}},
		},
		{
			name: "python for artifact builds",
			spec: "project: p\nbundle: b\naction: ./\nbuild: {python: \"3.12\", packages: [build, \"setuptools>=68\"]}\n" + targetsOIDCPATM2M +
				"tests:\n  integration: {target: test, jobs: [a]}\n",
			files: 6,
			contains: map[string][]string{
				"p-bundle-ci.yml":         {"  plan-staging:", "python-version: \"3.12\"", "python -m pip install 'build' 'setuptools>=68'"},
				"p-run-tests.yml":         {"python-version: \"3.12\"", "python -m pip install 'build' 'setuptools>=68'"},
				"p-bundle-cd-staging.yml": {"python-version: \"3.12\"", "python -m pip install 'build' 'setuptools>=68'"},
				"p-bundle-cd-prod.yml":    {"python-version: \"3.12\"", "python -m pip install 'build' 'setuptools>=68'"},
			},
			absent: map[string][]string{"lint-cicd-workflow-files.yml": {"setup-python"}, "deploy-cicd.yml": {"setup-python"}},
		},
		{
			name: "resource types left to another tool",
			spec: "project: p\nbundle: b\naction: ./\nskip-unsupported: [experiments, registered_models]\n" + targetsOIDCPATM2M +
				"tests:\n  integration: {target: test, jobs: [a]}\n",
			files: 6,
			contains: map[string][]string{
				"p-bundle-ci.yml":         {"mode: plan\n          target: staging\n          bundle: b\n          comment: true\n          skip_unsupported: experiments,registered_models"},
				"p-run-tests.yml":         {"skip_unsupported: experiments,registered_models"},
				"p-bundle-cd-staging.yml": {"mode: deploy\n          target: staging\n          bundle: b\n          skip_unsupported: experiments,registered_models"},
				"p-bundle-cd-prod.yml":    {"mode: deploy\n          target: prod\n          bundle: b\n          skip_unsupported: experiments,registered_models"},
			},
			absent: map[string][]string{"lint-cicd-workflow-files.yml": {"skip_unsupported"}},
		},
		{
			name:  "one project depending on a shared directory",
			spec:  "project: p\nbundle: b\naction: ./\ndepends-on: [libs/common]\npaths: [\"conf/**\"]\n" + targetsOIDCPATM2M,
			files: 5,
			contains: map[string][]string{
				"p-bundle-ci.yml":         {"      - b/**\n      - .github/workflows/p-bundle-ci.yml\n      - .github/pipeline.yaml\n      - libs/common/**\n      - conf/**\n"},
				"p-bundle-cd-staging.yml": {"      - libs/common/**\n"},
				"p-bundle-cd-prod.yml":    {"      - libs/common/**\n"},
				"deploy-cicd.yml":         {"group: p-deploy-cicd\n"},
			},
			absent: map[string][]string{"lint-cicd-workflow-files.yml": {"libs/common"}},
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
				t.Errorf("got %d files %q, want %d", len(files), slices.Sorted(maps.Keys(files)), c.files)
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
	res, err := Check("../..", specPath, ".github/workflows")
	if err != nil {
		t.Fatal(err)
	}
	if res.Findings.AtLeast(diag.Warning) {
		t.Fatalf("spec findings: %v", res.Findings)
	}
	if code := ExitCode(res, nil); code != ExitOK {
		t.Errorf("exit code %d, want %d", code, ExitOK)
	}
	for _, d := range res.Drifts {
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

// Pull-request plans run in each target's plan environment, never in the
// deploy environment: by default <environment>-plan, or the one the spec
// names; plan: false leaves the target's plan out.
func TestPlanEnvironment(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		targets string
		// wantEnv maps each plan job to its environment; absent jobs must
		// not exist.
		wantEnv map[string]string
		// wantNeeds is the needs: list of plan-prod when it exists.
		wantNeeds string
	}{
		{
			name:      "defaults",
			targets:   "  staging: {auth: {type: pat, token-secret: S}}\n  prod: {environment: production, auth: {type: pat, token-secret: P}}\n",
			wantEnv:   map[string]string{"plan-staging": "staging-plan", "plan-prod": "production-plan"},
			wantNeeds: "      - validate\n      - plan-staging\n",
		},
		{
			name:      "named plan environment",
			targets:   "  staging: {auth: {type: pat, token-secret: S}}\n  prod: {plan-environment: prod-readonly, auth: {type: pat, token-secret: P}}\n",
			wantEnv:   map[string]string{"plan-staging": "staging-plan", "plan-prod": "prod-readonly"},
			wantNeeds: "      - validate\n      - plan-staging\n",
		},
		{
			name:      "no staging plan",
			targets:   "  staging: {plan: false, auth: {type: pat, token-secret: S}}\n  prod: {auth: {type: pat, token-secret: P}}\n",
			wantEnv:   map[string]string{"plan-prod": "prod-plan"},
			wantNeeds: "      - validate\n    if:",
		},
		{
			name:    "no prod plan",
			targets: "  staging: {auth: {type: pat, token-secret: S}}\n  prod: {plan: false, auth: {type: pat, token-secret: P}}\n",
			wantEnv: map[string]string{"plan-staging": "staging-plan"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := parse(t, []byte("project: demo\nbundle: .\naction: ./\ntargets:\n"+c.targets))
			files, err := Generate(s, specPath)
			if err != nil {
				t.Fatal(err)
			}
			ci := string(files["demo-bundle-ci.yml"])
			for _, job := range []string{"plan-staging", "plan-prod"} {
				body := jobBody(ci, job)
				env, want := c.wantEnv[job]
				switch {
				case !want && body != "":
					t.Errorf("%s exists:\n%s", job, body)
				case want && !strings.Contains(body, "\n    environment: "+env+"\n"):
					t.Errorf("%s does not run in %q:\n%s", job, env, body)
				}
			}
			if c.wantNeeds != "" && !strings.Contains(jobBody(ci, "plan-prod"), "    needs:\n"+c.wantNeeds) {
				t.Errorf("plan-prod needs are not %q:\n%s", c.wantNeeds, ci)
			}
			// Deploys keep the target's environment and its approvals.
			staging, _ := s.Target("staging")
			prod, _ := s.Target("prod")
			if cd := string(files["demo-bundle-cd-prod.yml"]); strings.Contains(cd, "-plan") || strings.Contains(cd, "readonly") || !strings.Contains(cd, "environment: "+prod.Environment+"\n") {
				t.Errorf("the prod deploy is not in %q:\n%s", prod.Environment, cd)
			}
			if cd := string(files["demo-bundle-cd-staging.yml"]); !strings.Contains(cd, "environment: "+staging.Environment+"\n") {
				t.Errorf("the staging deploy is not in %q:\n%s", staging.Environment, cd)
			}
			for _, name := range []string{"demo-bundle-ci.yml", LintFile, "demo-run-tests.yml"} {
				for _, env := range []string{staging.Environment, prod.Environment} {
					if strings.Contains(string(files[name]), "environment: "+env+"\n") {
						t.Errorf("pull-request workflow %s runs in the deploy environment %q", name, env)
					}
				}
			}
		})
	}
}

// jobBody returns the text of one job of a generated workflow, from its
// key to the next job, or "" when there is no such job.
func jobBody(wf, id string) string {
	i := strings.Index(wf, "\n  "+id+":\n")
	if i < 0 {
		return ""
	}
	rest := wf[i+1:]
	if j := strings.Index(rest, "\n\n  "); j >= 0 {
		return rest[:j+1]
	}
	return rest
}

// The SARIF upload and its security-events grant exist only with
// lint.code-scanning: true.
func TestLintCodeScanning(t *testing.T) {
	t.Parallel()
	const base = "project: demo\nbundle: .\naction: ./\ntargets:\n  staging: {auth: {type: pat, token-secret: S}}\n  prod: {auth: {type: pat, token-secret: P}}\n"
	sarif := []string{"security-events: write", "github/codeql-action/upload-sarif@", "sarif_file: brickci-lint.sarif"}
	for _, c := range []struct {
		spec string
		want bool
	}{
		{base, false},
		{base + "lint: {code-scanning: false}\n", false},
		{base + "lint: {code-scanning: true}\n", true},
	} {
		files, err := Generate(parse(t, []byte(c.spec)), specPath)
		if err != nil {
			t.Fatal(err)
		}
		lint := string(files[LintFile])
		for _, w := range sarif {
			if strings.Contains(lint, w) != c.want {
				t.Errorf("code scanning %v: %q present = %v:\n%s", c.want, w, !c.want, lint)
			}
		}
		if !strings.Contains(lint, "    permissions:\n      contents: read\n") {
			t.Errorf("lint job cannot read contents:\n%s", lint)
		}
	}
}

// The CD deploy jobs run only from their branch, also when started by
// hand, and the condition is an expression, not a script.
func TestDeployBranchGuard(t *testing.T) {
	t.Parallel()
	s := parse(t, []byte("project: demo\nbundle: .\naction: ./\nbranches: {default: trunk, release: it's/v2}\ntargets:\n  staging: {auth: {type: pat, token-secret: S}}\n  prod: {auth: {type: pat, token-secret: P}}\n"))
	files, err := Generate(s, specPath)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"demo-bundle-cd-staging.yml": "\n    if: github.ref == 'refs/heads/trunk'\n",
		"demo-bundle-cd-prod.yml":    "\n    if: github.ref == 'refs/heads/it''s/v2'\n",
	} {
		body := jobBody(string(files[name]), "deploy")
		if !strings.Contains(body, want) || !strings.Contains(string(files[name]), "workflow_dispatch:") {
			t.Errorf("%s: deploy job lacks %q:\n%s", name, want, body)
		}
	}
}

// Integration tests of different pull requests never share a concurrency
// group, and none shares one with a deploy.
func TestIntegrationConcurrency(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files, err := Generate(parse(t, data), specPath)
	if err != nil {
		t.Fatal(err)
	}
	body := jobBody(string(files["rag_chatbot-run-tests.yml"]), "integration-tests")
	want := "    concurrency:\n      group: rag_chatbot-integration-test-${{ github.event.pull_request.number || github.run_id }}\n      cancel-in-progress: false\n"
	if !strings.Contains(body, want) {
		t.Errorf("integration job lacks %q:\n%s", want, body)
	}
}

func TestAdvice(t *testing.T) {
	t.Parallel()
	const targets = "targets:\n  staging: {auth: {type: pat, token-secret: S}}\n  prod: {auth: {type: pat, token-secret: P}}\n"
	got := Advice(parse(t, []byte("# spec\nproject: demo\naction: ./\n"+targets)))
	if len(got) != 1 || got[0].Rule != RuleGenerateToken || got[0].Severity != diag.Warning || got[0].Line != 2 || got[0].Column != 1 || got[0].File != specPath {
		t.Fatalf("advice = %v, want one generate-token warning at %s:2:1", got, specPath)
	}
	if !strings.Contains(got[0].Message, "generate.token-secret") || !strings.Contains(got[0].Message, "workflow scope") {
		t.Errorf("message does not say what to do: %s", got[0].Message)
	}
	got = Advice(parse(t, []byte("project: demo\naction: ./\n"+targets+"generate:\n  token-secret: WORKFLOWS_TOKEN\n")))
	if len(got) != 0 {
		t.Errorf("advice with a token secret: %v", got)
	}
}

func TestFirstDifference(t *testing.T) {
	t.Parallel()
	const header = "# Code generated by genworkflows from p.yaml; DO NOT EDIT.\n# spec-sha256: "
	cases := []struct {
		name       string
		have, want string
		line, col  int
		differs    bool
	}{
		{"identical", header + "aa\n\nname: x\n", header + "aa\n\nname: x\n", 0, 0, false},
		{"only the hash", header + "aa\n\nname: x\n", header + "bb\n\nname: x\n", 0, 0, false},
		{"body and hash", header + "aa\n\nname: x\non: push\n", header + "bb\n\nname: x\non: pull_request\n", 5, 7, true},
		{"no header on disk", "# spec-sha256: aa\n\nname: x\n", header + "aa\n\nname: x\n", 1, 3, true},
		{"line added", header + "aa\n\nname: x\n", header + "aa\n\nname: x\nrun-name: y\n", 5, 1, true},
		{"line removed", header + "aa\n\nname: x\nrun-name: y\n", header + "aa\n\nname: x\n", 5, 1, true},
		{"within a rune", header + "aa\nname: é\n", header + "aa\nname: è\n", 3, 7, true},
	}
	for _, c := range cases {
		line, col, differs := firstDifference([]byte(c.have), []byte(c.want))
		if line != c.line || col != c.col || differs != c.differs {
			t.Errorf("%s: got %d:%d differs=%v, want %d:%d differs=%v", c.name, line, col, differs, c.line, c.col, c.differs)
		}
	}
}

// A drift finding points at the first differing line and names the
// commands that work in the repository.
func TestCheckFindingPosition(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	src := "project: demo\nbundle: .\naction: ./\ntargets:\n  staging: {auth: {type: pat, token-secret: S}}\n  prod: {auth: {type: pat, token-secret: P}}\n"
	writeFile(t, filepath.Join(root, "databricks.yml"), "bundle: {name: demo}\n")
	writeFile(t, filepath.Join(root, specPath), src)
	files, err := Generate(parse(t, []byte(src)), specPath)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		writeFile(t, filepath.Join(root, ".github", "workflows", name), string(data))
	}
	// A comment in the spec changes its hash, not the workflows.
	writeFile(t, filepath.Join(root, specPath), "# the example's spec\n"+src)
	res, err := Check(root, specPath, ".github/workflows")
	if err != nil || len(res.Findings) != 0 || len(res.Drifts) != 0 {
		t.Fatalf("after a comment: result %+v, err %v", res, err)
	}
	ci := filepath.Join(root, ".github", "workflows", "demo-bundle-ci.yml")
	data, err := os.ReadFile(ci)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, ci, strings.Replace(string(data), "    timeout-minutes: 20\n", "    timeout-minutes: 25\n", 1))
	for _, c := range []struct {
		gomod, generate bool
		want            string
	}{
		{false, false, `regenerate with "genworkflows" or "brickci generate"`},
		{true, false, `regenerate with "genworkflows" or "brickci generate"`},
		{true, true, `regenerate with "go generate ./..." or "brickci generate"`},
	} {
		os.Remove(filepath.Join(root, "go.mod"))
		os.Remove(filepath.Join(root, "generate.go"))
		if c.gomod {
			writeFile(t, filepath.Join(root, "go.mod"), "module example.com/x\n")
		}
		if c.generate {
			writeFile(t, filepath.Join(root, "generate.go"), "package x\n\n//go:generate go run example.com/brickci/cmd/genworkflows\n")
		}
		res, err := Check(root, specPath, ".github/workflows")
		if err != nil {
			t.Fatal(err)
		}
		if code := ExitCode(res, nil); code != ExitFailed {
			t.Errorf("drift: exit code %d, want %d", code, ExitFailed)
		}
		got := Findings(res.Drifts)
		if len(got) != 1 {
			t.Fatalf("findings = %v, want one", got)
		}
		f := got[0]
		if f.File != ".github/workflows/demo-bundle-ci.yml" || f.Line != 30 || f.Column != 23 || !strings.Contains(f.Message, c.want) {
			t.Errorf("go.mod %v, go:generate %v: %s, want at :30:23 with %q", c.gomod, c.generate, f, c.want)
		}
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReadmeQuickstart generates the workflows of the README's quickstart
// spec and checks them against the environments table the README tells a
// user to create: every environment a job uses is in the table, and the
// workflows a pull request runs use only the ones without protection rules.
func TestReadmeQuickstart(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	start := strings.Index(readme, "   ```yaml\n   project: churn\n")
	if start < 0 {
		t.Fatal("README has no quickstart spec")
	}
	block := readme[start+len("   ```yaml\n"):]
	block = block[:strings.Index(block, "   ```\n")]
	src := strings.ReplaceAll("\n"+block, "\n   ", "\n")
	src = strings.Replace(src, "<40-hex sha>", "0123456789abcdef0123456789abcdef01234567", 1)
	s, findings := spec.Parse(specPath, []byte(src))
	if findings.AtLeast(diag.Warning) {
		t.Fatalf("quickstart spec findings: %v\n%s", findings, src)
	}
	if advice := Advice(s); len(advice) != 0 {
		t.Errorf("quickstart spec draws advice: %v", advice)
	}
	files, err := Generate(s, specPath)
	if err != nil {
		t.Fatal(err)
	}
	// The README's table: "| `name` | used by | secrets | protection rules |".
	table := map[string]string{}
	for _, line := range strings.Split(readme, "\n") {
		cells := strings.Split(strings.TrimSpace(line), "|")
		if len(cells) != 6 || cells[0] != "" {
			continue
		}
		name := strings.TrimSpace(cells[1])
		if env, ok := strings.CutPrefix(name, "`"); ok && strings.HasSuffix(env, "`") && !strings.Contains(env, " ") {
			table[strings.TrimSuffix(env, "`")] = strings.TrimSpace(cells[4])
		}
	}
	for _, env := range []string{"staging-plan", "prod-plan", "staging", "prod"} {
		if _, ok := table[env]; !ok {
			t.Errorf("README's environments table lacks %q: %v", env, table)
		}
	}
	for name, body := range files {
		pr := strings.Contains(string(body), "\n  pull_request:\n")
		for _, line := range strings.Split(string(body), "\n") {
			env, ok := strings.CutPrefix(line, "    environment: ")
			if !ok {
				continue
			}
			rules, listed := table[env]
			switch {
			case !listed:
				t.Errorf("%s uses environment %q, which the README does not tell the user to create", name, env)
			case pr && rules != "none":
				t.Errorf("pull-request workflow %s uses environment %q, which the README protects with %q", name, env, rules)
			}
		}
	}
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	specErr := diag.Errorf("spec-unknown-key", specPath, 3, 1, "unknown key")
	lintErr := diag.Errorf(RuleActionlintPrefix+"expression", ".github/workflows/x.yml", 1, 1, "bad")
	warning := diag.Warnf("spec-advice", specPath, 1, 1, "consider")
	cases := []struct {
		name string
		res  *Result
		err  error
		want int
	}{
		{"clean", &Result{}, nil, ExitOK},
		{"warnings only", &Result{Findings: diag.List{warning}}, nil, ExitOK},
		{"unreadable", nil, errors.New("no such file"), ExitUnusable},
		{"spec error", &Result{Findings: diag.List{specErr}}, nil, ExitUnusable},
		{"spec and actionlint errors", &Result{Findings: diag.List{lintErr, specErr}}, nil, ExitUnusable},
		{"actionlint error", &Result{Findings: diag.List{lintErr, warning}}, nil, ExitFailed},
		{"drift", &Result{Drifts: []Drift{{File: "w/a.yml", Kind: Missing}}}, nil, ExitFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := ExitCode(c.res, c.err); got != c.want {
				t.Errorf("ExitCode = %d, want %d", got, c.want)
			}
		})
	}
}
