package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/yamllimit"
)

// AuthType names how a target authenticates against its workspace.
type AuthType string

// The supported authentication types.
const (
	AuthPAT        AuthType = "pat"
	AuthOAuthM2M   AuthType = "oauth-m2m"
	AuthAzureSP    AuthType = "azure-sp"
	AuthGitHubOIDC AuthType = "github-oidc"
)

// Spec is a parsed pipeline spec with its defaults applied.
type Spec struct {
	// File is the name the spec was parsed under; findings carry it.
	File string
	// SHA256 is the hex SHA-256 of the spec's bytes; generated workflows
	// record it so drift can tell a changed spec from a hand edit.
	SHA256 string

	// Projects are the spec's projects, in order: the one its top-level
	// keys describe, or the entries of projects:. Every project carries
	// its own values merged with the repository-wide defaults (targets,
	// timeouts), so a caller never merges them itself.
	Projects []Project
	// MultiProject reports that the spec lists its projects under
	// projects:. The workflows of each project are then named after it,
	// and the top-level fields below that describe one project (Project
	// to SkipUnsupported, except the repository-wide Branches, Action,
	// ActionVersion, Runner, Generate and Lint) are empty: use Projects,
	// ProjectNamed or ProjectFor.
	MultiProject bool

	// Project to SkipUnsupported describe the one project of a spec
	// without projects:, the same values as Projects[0].
	Project string
	Bundle  string
	// BundleLine and BundleColumn locate the bundle value (0 when defaulted).
	BundleLine, BundleColumn int
	Branches                 Branches
	// Action is the brickci action reference: "./" (or "./dir") or
	// "owner/repo@<sha>".
	Action string
	// ActionVersion is the version comment written after the action
	// reference in the spec ("v1.2.3"), empty when there is none.
	ActionVersion string
	Runner        string
	// Targets are in the order the spec lists them.
	Targets []Target
	Tests   Tests
	Release Release
	// Paths are extra path filters for the bundle workflows.
	Paths []string
	// DependsOn are the shared directories the project depends on.
	DependsOn []JobRef
	// Timeouts are the timeouts of the top level: the repository-wide
	// Lint and Generate, and the defaults of every project's others.
	Timeouts Timeouts
	Generate Generate
	Lint     Lint
	// Build, when set, prepares Python in every job that builds the
	// bundle's artifacts (plans, integration tests, deploys).
	Build *Build
	// SkipUnsupported are resource types brickci does not deploy that the
	// plans, integration tests and deploys leave to another tool
	// (--skip-unsupported); without them such a bundle's deploy fails.
	// Each entry carries where the spec writes it.
	SkipUnsupported []JobRef
}

// Project is one bundle of the repository and what its four bundle
// workflows (CI, tests, staging and prod deploys) need.
type Project struct {
	// Name names the project's workflow files and concurrency groups.
	Name string
	// Line and Column locate the project: its name's value, or the entry
	// of projects: when it has none.
	Line, Column int
	Bundle       string
	// BundleLine and BundleColumn locate the bundle value (0 when defaulted).
	BundleLine, BundleColumn int
	// Targets are the project's own targets and those of the top level it
	// does not redefine, in the order the spec lists them (top level first).
	Targets []Target
	Tests   Tests
	Release Release
	// Paths are extra path filters for the project's bundle workflows.
	Paths []string
	// DependsOn are shared directories, relative to the repository root,
	// whose changes also run the project's bundle workflows (depends-on).
	// Each entry carries where the spec writes it.
	DependsOn []JobRef
	// Timeouts are the project's timeouts over the top level's.
	Timeouts Timeouts
	// Build, when set, prepares Python in every job that builds the
	// bundle's artifacts (plans, integration tests, deploys).
	Build *Build
	// SkipUnsupported are resource types brickci does not deploy that the
	// project's plans, integration tests and deploys leave to another tool.
	SkipUnsupported []JobRef
}

// Target returns the project's target with the given name.
func (p *Project) Target(name string) (Target, bool) {
	for _, t := range p.Targets {
		if t.Name == name {
			return t, true
		}
	}
	return Target{}, false
}

// TargetNames returns the names of the project's targets, in order.
func (p *Project) TargetNames() []string {
	var out []string
	for _, t := range p.Targets {
		out = append(out, t.Name)
	}
	return out
}

// ProjectNamed returns the project with the given name.
func (s *Spec) ProjectNamed(name string) (*Project, bool) {
	for i := range s.Projects {
		if s.Projects[i].Name == name {
			return &s.Projects[i], true
		}
	}
	return nil, false
}

// ProjectFor returns the project whose bundle directory is dir or holds
// it; dir is relative to the repository root ("examples/rag-chatbot",
// "examples/rag-chatbot/resources"). Bundles do not nest, so at most one
// project matches, except a bundle at the root, which holds everything.
func (s *Spec) ProjectFor(dir string) (*Project, bool) {
	dir = path.Clean(strings.ReplaceAll(dir, "\\", "/"))
	var best *Project
	for i := range s.Projects {
		p := &s.Projects[i]
		if !within(dir, p.Bundle) {
			continue
		}
		if best == nil || len(p.Bundle) > len(best.Bundle) {
			best = p
		}
	}
	return best, best != nil
}

// within reports whether the clean relative path dir is parent or inside it.
func within(dir, parent string) bool {
	return parent == "." || dir == parent || strings.HasPrefix(dir, parent+"/")
}

// Branches are the git branches the pipeline deploys from.
type Branches struct {
	// Default receives pull requests and deploys to staging.
	Default string
	// Release deploys to prod.
	Release string
}

// Target is one bundle target and how CI reaches its workspace.
type Target struct {
	Name string
	// Line and Column locate the target's key in the spec.
	Line, Column int
	// Environment is the GitHub environment the target's jobs run in.
	Environment string
	// Plan says whether pull requests plan a deploy to the target; it is
	// true unless the spec sets plan: false.
	Plan bool
	// PlanEnvironment is the environment of the pull-request plan of the
	// target, by default Environment + "-plan". Kept apart from the deploy
	// environment, it holds a read-only credential under the same secret
	// names and needs no reviewers or branch rules, so pull requests never
	// wait for a deploy approval or need the deploy credential.
	PlanEnvironment string
	// Host, when set, is exported as DATABRICKS_HOST.
	Host string
	Auth Auth
}

// Auth holds the credentials a target uses. Fields ending in Secret name
// GitHub secrets; ClientID is a literal value or an expression.
type Auth struct {
	Type               AuthType
	TokenSecret        string
	ClientID           string
	ClientIDSecret     string
	ClientSecretSecret string
	TenantIDSecret     string
	Audience           string
}

// Tests configures the run-tests workflow. Both parts are optional.
type Tests struct {
	Unit        *UnitTests
	Integration *Integration
}

// UnitTests runs a Python unit-test command in the bundle directory.
type UnitTests struct {
	// Python is the version for actions/setup-python, always a string.
	Python       string
	Requirements string
	// Command is the unit-test command; empty leaves it to the test mode's
	// default, which finds pytest or falls back to python3 -m pytest.
	Command string
	JUnit   string
}

// Integration deploys the bundle to a target and runs jobs there.
type Integration struct {
	Target string
	// TargetLine and TargetColumn locate the target value (0 when defaulted).
	TargetLine, TargetColumn int
	Jobs                     []JobRef
	Cleanup                  bool
}

// Release lists the jobs run after a prod deploy.
type Release struct {
	Run []JobRef
}

// JobRef names a bundle job and where the spec mentions it.
type JobRef struct {
	Name         string
	Line, Column int
}

// Timeouts are the timeout-minutes of each kind of job.
type Timeouts struct {
	Lint        int
	CI          int
	Unit        int
	Integration int
	Deploy      int
	Run         int
	Generate    int
}

// Generate configures the deploy-cicd workflow.
type Generate struct {
	// TokenSecret names a secret holding a token with the workflow scope;
	// the default GITHUB_TOKEN cannot push workflow files.
	TokenSecret string
	// Line and Column locate the generate key, or the start of the spec
	// when it has none; findings about the deploy-cicd workflow point here.
	Line, Column int
}

// Build is the Python a bundle's artifact builds need on the runner: the
// version for actions/setup-python and the packages pip installs first.
type Build struct {
	Python string
	// Packages are pip requirement specifiers; by default build,
	// setuptools and wheel, which `python3 -m build --wheel --no-isolation`
	// and `python3 setup.py bdist_wheel` need.
	Packages []string
}

// DefaultBuildPackages are installed when build.packages is not set.
var DefaultBuildPackages = []string{"build", "setuptools", "wheel"}

// Lint configures the lint workflow.
type Lint struct {
	// CodeScanning uploads lint's findings as SARIF to GitHub code
	// scanning. It is off by default: the upload fails in a repository
	// without code scanning, and annotations and the step summary work
	// everywhere.
	CodeScanning bool
}

// PlanEnvironmentSuffix is appended to a target's environment to name its
// default plan environment.
const PlanEnvironmentSuffix = "-plan"

// DefaultTimeouts are used for every timeout the spec leaves out.
var DefaultTimeouts = Timeouts{Lint: 10, CI: 20, Unit: 30, Integration: 90, Deploy: 30, Run: 120, Generate: 10}

// Target returns the target with the given name.
func (s *Spec) Target(name string) (Target, bool) {
	for _, t := range s.Targets {
		if t.Name == name {
			return t, true
		}
	}
	return Target{}, false
}

// Hash returns the hex SHA-256 of spec bytes as recorded in generated files.
func Hash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Load reads and parses the spec at path. The error is only for a file
// that cannot be read; problems in the spec are findings.
func Load(path string) (*Spec, diag.List, error) {
	data, err := yamllimit.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to read pipeline spec %q: %w", path, err)
	}
	s, l := Parse(filepath.ToSlash(path), data)
	return s, l, nil
}
