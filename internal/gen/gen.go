package gen

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/brickci/brickci/internal/spec"
	"github.com/brickci/brickci/internal/workflow"
)

// WorkflowsDir is where GitHub reads workflows; path filters refer to it.
const WorkflowsDir = ".github/workflows"

// The file names of the workflows that do not carry the project name.
const (
	DeployCICDFile = "deploy-cicd.yml"
	LintFile       = "lint-cicd-workflow-files.yml"
)

// FileNames returns the names of the files Generate yields for s, in the
// order of the pipeline: generate, lint, then for each project in turn its
// CI, tests, staging and prod. The project name is used as written,
// underscores included, as the MLOps Stacks template names its files.
func FileNames(s *spec.Spec) []string {
	names := []string{DeployCICDFile, LintFile}
	for i := range s.Projects {
		names = append(names, projectFiles(&s.Projects[i])...)
	}
	return names
}

// projectFiles are the names of one project's bundle workflows.
func projectFiles(p *spec.Project) []string {
	names := []string{p.Name + "-bundle-ci.yml"}
	if hasTests(p) {
		names = append(names, p.Name+"-run-tests.yml")
	}
	return append(names, p.Name+"-bundle-cd-staging.yml", p.Name+"-bundle-cd-prod.yml")
}

func hasTests(p *spec.Project) bool {
	return p.Tests.Unit != nil || p.Tests.Integration != nil
}

// Generate renders the workflows of s: one lint and one deploy-cicd
// workflow for the repository and the bundle workflows of each project.
// specPath is the spec's path relative to the repository root; it is
// written into each file's header and into the path filters. The map is
// keyed by file name.
func Generate(s *spec.Spec, specPath string) (map[string][]byte, error) {
	if s == nil {
		return nil, errors.New("failed to generate workflows: no spec")
	}
	if len(s.Projects) == 0 {
		return nil, errors.New("failed to generate workflows: the spec has no project")
	}
	g := &generator{s: s, specPath: path.Clean(strings.ReplaceAll(specPath, "\\", "/"))}
	wfs := map[string]*workflow.Workflow{
		DeployCICDFile: g.deployCICD(),
		LintFile:       g.lint(),
	}
	for i := range s.Projects {
		p := &s.Projects[i]
		for _, req := range spec.RequiredTargets {
			if _, ok := p.Target(req); !ok {
				return nil, fmt.Errorf("failed to generate workflows: target %q of project %q is not defined", req, p.Name)
			}
		}
		pg := &generator{s: s, p: p, specPath: g.specPath}
		files := map[string]*workflow.Workflow{
			p.Name + "-bundle-ci.yml":         pg.bundleCI(),
			p.Name + "-bundle-cd-staging.yml": pg.deploy("staging", s.Branches.Default, nil),
			p.Name + "-bundle-cd-prod.yml":    pg.deploy("prod", s.Branches.Release, p.Release.Run),
		}
		if hasTests(p) {
			tests, err := pg.runTests()
			if err != nil {
				return nil, err
			}
			files[p.Name+"-run-tests.yml"] = tests
		}
		for name, wf := range files {
			if _, dup := wfs[name]; dup {
				return nil, fmt.Errorf("failed to generate workflows: project %q yields %s, which another file already has", p.Name, name)
			}
			wfs[name] = wf
		}
	}
	header := &workflow.Header{Source: g.specPath, SHA256: s.SHA256}
	out := make(map[string][]byte, len(wfs))
	for name, wf := range wfs {
		data, err := workflow.Marshal(wf, header)
		if err != nil {
			return nil, fmt.Errorf("failed to render %s: %w", name, err)
		}
		out[name] = data
	}
	return out, nil
}

// generator renders the workflows of one spec; p is the project whose
// bundle workflows it renders, nil for the repository's own (lint,
// deploy-cicd).
type generator struct {
	s        *spec.Spec
	p        *spec.Project
	specPath string
}

// Expressions reused across workflows. They only appear in if:,
// concurrency and env:, never inside run: scripts.
const (
	prGroup = "${{ github.workflow }}-${{ github.event.pull_request.number || github.ref }}"
	// integrationKey names a pull request's integration run; the run id
	// stands in for manual runs, which deploy under run-<id>.
	integrationKey = "${{ github.event.pull_request.number || github.run_id }}"
	notFork        = "github.event_name != 'pull_request' || github.event.pull_request.head.repo.full_name == github.repository"
	localRoot      = "./"
)

func (g *generator) prConcurrency() *workflow.Concurrency {
	return &workflow.Concurrency{Group: prGroup, CancelInProgress: true}
}

// deployConcurrency is shared by everything that changes a target's
// workspace, and is never cancelled by a newer run.
func (g *generator) deployConcurrency(target string) *workflow.Concurrency {
	return &workflow.Concurrency{Group: g.p.Name + "-deploy-" + target, CancelInProgress: false}
}

func (g *generator) branches() []string {
	b := []string{g.s.Branches.Default}
	if g.s.Branches.Release != g.s.Branches.Default {
		b = append(b, g.s.Branches.Release)
	}
	return b
}

// bundlePaths are the path filters of the workflows that act on the
// project's bundle: its directory, the workflow itself, the spec, the
// shared directories it depends on and its extra paths.
func (g *generator) bundlePaths(file string) []string {
	var p []string
	if g.p.Bundle == "." {
		p = append(p, "**")
	} else {
		p = append(p, g.p.Bundle+"/**")
	}
	p = append(p, WorkflowsDir+"/"+file, g.specPath)
	for _, d := range g.p.DependsOn {
		p = append(p, d.Name+"/**")
	}
	return dedupe(append(p, g.p.Paths...))
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func checkout(persist bool, with ...workflow.KV) workflow.Step {
	st := workflow.Step{Name: "Check out", Uses: Checkout.Uses(), UsesComment: Checkout.Version}
	if !persist {
		st.With = append(st.With, workflow.KV{Key: "persist-credentials", Value: "false"})
	}
	st.With = append(st.With, with...)
	return st
}

// brickci returns a step that runs the brickci action with the inputs in
// order; empty values are left out.
func (g *generator) brickci(name string, inputs ...workflow.KV) workflow.Step {
	st := workflow.Step{Name: name, Uses: g.s.Action, UsesComment: g.s.ActionVersion}
	for _, in := range inputs {
		if in.Value != "" {
			st.With = append(st.With, in)
		}
	}
	return st
}

func kv(k, v string) workflow.KV { return workflow.KV{Key: k, Value: v} }

// exprString quotes s as a string literal of a GitHub Actions expression,
// where a single quote is escaped by doubling it.
func exprString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// auth returns the environment that lets Databricks unified auth reach the
// target. The auth type is always explicit so that a stray credential in
// the runner's environment cannot change which one is used.
func authEnv(t spec.Target) []workflow.KV {
	var env []workflow.KV
	if t.Host != "" {
		env = append(env, kv("DATABRICKS_HOST", t.Host))
	}
	secret := func(name string) string { return "${{ secrets." + name + " }}" }
	a := t.Auth
	switch a.Type {
	case spec.AuthPAT:
		env = append(env, kv("DATABRICKS_AUTH_TYPE", "pat"), kv("DATABRICKS_TOKEN", secret(a.TokenSecret)))
	case spec.AuthOAuthM2M:
		id := a.ClientID
		if a.ClientIDSecret != "" {
			id = secret(a.ClientIDSecret)
		}
		env = append(env, kv("DATABRICKS_AUTH_TYPE", "oauth-m2m"), kv("DATABRICKS_CLIENT_ID", id), kv("DATABRICKS_CLIENT_SECRET", secret(a.ClientSecretSecret)))
	case spec.AuthAzureSP:
		env = append(env, kv("DATABRICKS_AUTH_TYPE", "azure-client-secret"),
			kv("ARM_CLIENT_ID", secret(a.ClientIDSecret)), kv("ARM_CLIENT_SECRET", secret(a.ClientSecretSecret)), kv("ARM_TENANT_ID", secret(a.TenantIDSecret)))
	case spec.AuthGitHubOIDC:
		env = append(env, kv("DATABRICKS_AUTH_TYPE", "github-oidc"), kv("DATABRICKS_CLIENT_ID", a.ClientID))
		if a.Audience != "" {
			env = append(env, kv("DATABRICKS_TOKEN_AUDIENCE", a.Audience))
		}
	}
	return env
}

// targetPerms grants read access, OIDC token requests for github-oidc
// targets, and the extra grants given.
func targetPerms(t spec.Target, extra ...string) map[string]string {
	p := map[string]string{"contents": "read"}
	if t.Auth.Type == spec.AuthGitHubOIDC {
		p["id-token"] = "write"
	}
	for i := 0; i+1 < len(extra); i += 2 {
		p[extra[i]] = extra[i+1]
	}
	return p
}

func (g *generator) deployCICD() *workflow.Workflow {
	s := g.s
	var co []workflow.KV
	token := ""
	if s.Generate.TokenSecret != "" {
		token = "${{ secrets." + s.Generate.TokenSecret + " }}"
		co = append(co, kv("token", token))
	}
	return &workflow.Workflow{
		Name:        "Deploy CI/CD workflows",
		On:          workflow.Triggers{WorkflowDispatch: true},
		Permissions: map[string]string{},
		Concurrency: &workflow.Concurrency{Group: g.cicdGroup(), CancelInProgress: false},
		Jobs: []workflow.Job{{
			ID:             "generate",
			Name:           "Regenerate workflows from the pipeline spec",
			RunsOn:         s.Runner,
			Permissions:    map[string]string{"contents": "write", "pull-requests": "write"},
			TimeoutMinutes: s.Timeouts.Generate,
			Steps: []workflow.Step{
				// The branch with the regenerated files is pushed, so the
				// credentials stay in the checkout.
				checkout(true, co...),
				g.brickci("Regenerate and open a pull request",
					kv("mode", "generate"), kv("spec", g.specPath), kv("pull_request", "true"), kv("github_token", token)),
			},
		}},
	}
}

// cicdGroup is the concurrency group of deploy-cicd.yml: named after the
// project in a single-project repository, as it always was, and one group
// for the repository's spec when it holds projects:.
func (g *generator) cicdGroup() string {
	if g.s.MultiProject {
		return "deploy-cicd"
	}
	return g.s.Projects[0].Name + "-deploy-cicd"
}

func (g *generator) lint() *workflow.Workflow {
	s := g.s
	paths := []string{WorkflowsDir + "/**", g.specPath}
	if strings.HasPrefix(s.Action, localRoot) {
		paths = append(paths, path.Join(s.Action, "action.yml"))
	}
	perms := map[string]string{"contents": "read"}
	lint := g.brickci("Lint workflows and check them against the spec",
		kv("mode", "lint"), kv("spec", g.specPath))
	steps := []workflow.Step{checkout(false), lint}
	// Annotations and the step summary work in every repository; the
	// SARIF upload fails where code scanning is not enabled, so it is
	// opt-in (lint.code-scanning).
	if s.Lint.CodeScanning {
		const sarif = "brickci-lint.sarif"
		perms["security-events"] = "write"
		steps[1].With = append(steps[1].With, kv("sarif_file", sarif))
		steps = append(steps, workflow.Step{
			Name: "Upload findings to code scanning",
			// Fork pull requests get a read-only token that cannot upload.
			If:          "${{ !cancelled() && hashFiles('" + sarif + "') != '' && (" + notFork + ") }}",
			Uses:        UploadSARIF.Uses(),
			UsesComment: UploadSARIF.Version,
			With:        []workflow.KV{kv("sarif_file", sarif), kv("category", "brickci-lint")},
		})
	}
	return &workflow.Workflow{
		Name:        "Lint CI/CD workflow files",
		On:          workflow.Triggers{PullRequest: &workflow.Filter{Branches: g.branches(), Paths: dedupe(paths)}, WorkflowDispatch: true},
		Permissions: map[string]string{},
		Concurrency: g.prConcurrency(),
		Jobs: []workflow.Job{{
			ID:             "lint",
			Name:           "Lint workflow files",
			RunsOn:         s.Runner,
			Permissions:    perms,
			TimeoutMinutes: s.Timeouts.Lint,
			Steps:          steps,
		}},
	}
}

func (g *generator) bundleCI() *workflow.Workflow {
	s, p := g.s, g.p
	file := p.Name + "-bundle-ci.yml"
	// The three jobs write one pull-request comment, each its own section,
	// so they run one after another: validate, then plan-staging, then
	// plan-prod (also when plan-staging failed, so its result is shown).
	jobs := []workflow.Job{{
		ID:             "validate",
		Name:           "Validate bundle",
		RunsOn:         s.Runner,
		Permissions:    map[string]string{"contents": "read", "pull-requests": "write"},
		TimeoutMinutes: p.Timeouts.CI,
		Steps: []workflow.Step{
			checkout(false),
			// Offline, so it needs no secrets and also runs for forks
			// (whose read-only token puts the result in the step summary).
			g.brickci("Validate staging and prod",
				kv("mode", "validate"), kv("target", "staging,prod"), kv("bundle", p.Bundle), kv("offline", "true"), kv("comment", "true")),
		},
	}}
	previous := ""
	for _, name := range spec.RequiredTargets {
		t, _ := p.Target(name)
		if !t.Plan {
			continue
		}
		plan := g.brickci("Plan the "+name+" deploy",
			append([]workflow.KV{kv("mode", "plan"), kv("target", name), kv("bundle", p.Bundle), kv("comment", "true")}, g.skipInput()...)...)
		// The same secret names as the deploy, resolved in the plan
		// environment: its read-only credential overrides any repository
		// secret of that name, and the deploy environment's is never seen.
		plan.Env = authEnv(t)
		needs, cond := []string{"validate"}, notFork
		if previous != "" {
			needs = append(needs, previous)
			cond = "${{ !cancelled() && needs.validate.result == 'success' && (" + notFork + ") }}"
		}
		previous = "plan-" + name
		jobs = append(jobs, workflow.Job{
			ID:     "plan-" + name,
			Name:   "Plan " + name,
			RunsOn: s.Runner,
			Needs:  needs,
			// Forks get no secrets; the offline validation above covers them.
			If: cond,
			// Never the deploy environment: its reviewers and branch rules
			// would hold or block every pull request.
			Environment:    t.PlanEnvironment,
			Permissions:    targetPerms(t, "pull-requests", "write"),
			TimeoutMinutes: p.Timeouts.CI,
			Steps:          g.buildingSteps(plan),
		})
	}
	return &workflow.Workflow{
		Name:        p.Name + " bundle CI",
		On:          workflow.Triggers{PullRequest: &workflow.Filter{Branches: g.branches(), Paths: g.bundlePaths(file)}, WorkflowDispatch: true},
		Permissions: map[string]string{},
		Concurrency: g.prConcurrency(),
		Jobs:        jobs,
	}
}

func (g *generator) runTests() (*workflow.Workflow, error) {
	s, p := g.s, g.p
	file := p.Name + "-run-tests.yml"
	var jobs []workflow.Job
	if u := p.Tests.Unit; u != nil {
		steps := []workflow.Step{
			checkout(false),
			{Name: "Set up Python", Uses: SetupPython.Uses(), UsesComment: SetupPython.Version, With: []workflow.KV{kv("python-version", u.Python)}},
		}
		if u.Requirements != "" {
			steps = append(steps, workflow.Step{
				Name:             "Install requirements",
				WorkingDirectory: p.Bundle,
				Env:              []workflow.KV{kv("REQUIREMENTS", u.Requirements)},
				Run:              "python -m pip install --upgrade pip\npython -m pip install -r \"$REQUIREMENTS\"\n",
			})
		}
		steps = append(steps, g.brickci("Run unit tests",
			kv("mode", "test"), kv("unit", "true"), kv("bundle", p.Bundle), kv("command", u.Command), kv("junit", u.JUnit)))
		jobs = append(jobs, workflow.Job{
			ID:             "unit-tests",
			Name:           "Unit tests",
			RunsOn:         s.Runner,
			Permissions:    map[string]string{"contents": "read"},
			TimeoutMinutes: p.Timeouts.Unit,
			Steps:          steps,
		})
	}
	if in := p.Tests.Integration; in != nil {
		t, ok := p.Target(in.Target)
		if !ok {
			return nil, fmt.Errorf("failed to generate %s: integration target %q is not defined", file, in.Target)
		}
		var names []string
		for _, j := range in.Jobs {
			names = append(names, j.Name)
		}
		step := g.brickci("Deploy to "+t.Name+" and run jobs",
			append([]workflow.KV{kv("mode", "test"), kv("integration", "true"), kv("target", t.Name), kv("bundle", p.Bundle),
				kv("jobs", strings.Join(names, ",")), kv("cleanup", strconv.FormatBool(in.Cleanup))}, g.skipInput()...)...)
		step.Env = authEnv(t)
		job := workflow.Job{
			ID:          "integration-tests",
			Name:        "Integration tests on " + t.Name,
			RunsOn:      s.Runner,
			If:          notFork,
			Environment: t.Environment,
			Permissions: targetPerms(t),
			// One group per pull request (per run otherwise), apart from the
			// deploys: each deploys under its own root (the test mode's
			// isolate default, pr-<number> or run-<id>) with its own deploy
			// lock there, so pull requests neither queue behind nor cancel
			// each other, and a newer push to the same pull request waits
			// for the older run's cleanup.
			Concurrency:    &workflow.Concurrency{Group: p.Name + "-integration-" + t.Name + "-" + integrationKey, CancelInProgress: false},
			TimeoutMinutes: p.Timeouts.Integration,
			Steps:          g.buildingSteps(step),
		}
		if p.Tests.Unit != nil {
			job.Needs = []string{"unit-tests"}
		}
		jobs = append(jobs, job)
	}
	return &workflow.Workflow{
		Name:        p.Name + " tests",
		On:          workflow.Triggers{PullRequest: &workflow.Filter{Branches: g.branches(), Paths: g.bundlePaths(file)}, WorkflowDispatch: true},
		Permissions: map[string]string{},
		Concurrency: g.prConcurrency(),
		Jobs:        jobs,
	}, nil
}

// skipInput is the skip_unsupported input of the steps that deploy or
// plan, or nothing when the spec skips no resource type.
func (g *generator) skipInput() []workflow.KV {
	if len(g.p.SkipUnsupported) == 0 {
		return nil
	}
	names := make([]string, len(g.p.SkipUnsupported))
	for i, r := range g.p.SkipUnsupported {
		names[i] = r.Name
	}
	return []workflow.KV{kv("skip_unsupported", strings.Join(names, ","))}
}

// buildSteps set up Python and the packages the bundle's artifact builds
// need, for the jobs that build them (plan, integration tests, deploy);
// none without a build block. The package names are checked by the spec
// and quoted here, so they are never shell syntax.
func (g *generator) buildSteps() []workflow.Step {
	b := g.p.Build
	if b == nil {
		return nil
	}
	steps := []workflow.Step{{Name: "Set up Python", Uses: SetupPython.Uses(), UsesComment: SetupPython.Version, With: []workflow.KV{kv("python-version", b.Python)}}}
	if len(b.Packages) > 0 {
		quoted := make([]string, len(b.Packages))
		for i, p := range b.Packages {
			quoted[i] = "'" + p + "'"
		}
		steps = append(steps, workflow.Step{
			Name: "Install build tools",
			Run:  "python -m pip install " + strings.Join(quoted, " ") + "\n",
		})
	}
	return steps
}

// buildingSteps are the steps of a job that builds the bundle's artifacts:
// check out, the build set-up (buildSteps), then steps.
func (g *generator) buildingSteps(steps ...workflow.Step) []workflow.Step {
	return append(append([]workflow.Step{checkout(false)}, g.buildSteps()...), steps...)
}

// deploy builds the CD workflow of a target: validate, deploy and, for
// prod, run the release jobs, all in one job so that an environment that
// requires approval asks once.
func (g *generator) deploy(target, branch string, run []spec.JobRef) *workflow.Workflow {
	s, p := g.s, g.p
	t, _ := p.Target(target)
	file := p.Name + "-bundle-cd-" + target + ".yml"
	env := authEnv(t)
	validate := g.brickci("Validate "+target, kv("mode", "validate"), kv("target", target), kv("bundle", p.Bundle))
	validate.Env = env
	deploy := g.brickci("Deploy to "+target, append([]workflow.KV{kv("mode", "deploy"), kv("target", target), kv("bundle", p.Bundle)}, g.skipInput()...)...)
	deploy.Env = env
	steps := g.buildingSteps(validate, deploy)
	timeout := p.Timeouts.Deploy
	name := "Deploy to " + target
	if len(run) > 0 {
		var names []string
		for _, j := range run {
			names = append(names, j.Name)
		}
		r := g.brickci("Run release jobs", kv("mode", "run"), kv("target", target), kv("bundle", p.Bundle),
			kv("jobs", strings.Join(names, ",")), kv("timeout", strconv.Itoa(p.Timeouts.Run)+"m"))
		r.Env = env
		steps = append(steps, r)
		// The job outlives the run's own timeout, so brickci cancels the
		// runs itself and reports every task before GitHub stops the job.
		timeout += p.Timeouts.Run + 5
		name = "Deploy to " + target + " and run release jobs"
	}
	return &workflow.Workflow{
		Name: p.Name + " bundle CD " + target,
		On: workflow.Triggers{
			Push:             &workflow.Filter{Branches: []string{branch}, Paths: g.bundlePaths(file)},
			WorkflowDispatch: true,
		},
		Permissions: map[string]string{},
		Jobs: []workflow.Job{{
			ID:     "deploy",
			Name:   name,
			RunsOn: s.Runner,
			// A manual run deploys only from the target's branch, whatever
			// branch it was started on.
			If:             "github.ref == " + exprString("refs/heads/"+branch),
			Environment:    t.Environment,
			Permissions:    targetPerms(t),
			Concurrency:    g.deployConcurrency(target),
			TimeoutMinutes: timeout,
			Steps:          steps,
		}},
	}
}
