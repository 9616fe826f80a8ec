package gen

import (
	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/spec"
)

// RuleGenerateToken is the rule id of the warning that deploy-cicd.yml
// has no token that can push workflow files.
const RuleGenerateToken = "generate-token"

// Advice returns warnings about a valid spec whose workflows are generated
// but will not work as a user expects. They point at the spec and never
// stop the files from being written.
func Advice(s *spec.Spec) diag.List {
	var out diag.List
	if s.Generate.TokenSecret == "" {
		// GitHub refuses a push that changes .github/workflows with the
		// GITHUB_TOKEN (it lacks the workflow scope), and a pull request it
		// opens starts no workflows.
		out = append(out, diag.Finding{
			Severity: diag.Warning,
			Rule:     RuleGenerateToken,
			File:     s.File,
			Line:     s.Generate.Line,
			Column:   s.Generate.Column,
			Message: "generate.token-secret is not set, so " + DeployCICDFile + " pushes with the default GITHUB_TOKEN, " +
				"which GitHub does not allow to change workflow files; create a secret holding a token with the workflow scope " +
				"and name it in generate: {token-secret: NAME}",
		})
	}
	return out
}
