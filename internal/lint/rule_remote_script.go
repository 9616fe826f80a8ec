package lint

import (
	"regexp"

	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
)

const ruleRemoteScript = "remote-script"

func init() {
	registerRule(ruleDef{id: ruleRemoteScript, level: diag.Warning,
		doc: "piping a downloaded script into a shell (curl ... | bash, bash <(curl ...)) runs unverified code; an error when the URL follows a branch, a warning otherwise; download a pinned release and check its sha256 instead",
		new: func(fc *fileCtx) actionlint.Rule { return &ruleRemote{newRuleBase(ruleRemoteScript, "", fc)} }})
}

type ruleRemote struct{ ruleBase }

func (r *ruleRemote) VisitStep(s *actionlint.Step) error {
	r.fc.checkRemoteScript(stepRun(s))
	return nil
}

var (
	rePipeToShell = regexp.MustCompile(`\b(?:curl|wget)\b[^|\n;&]*\|\s*(?:sudo\s+(?:-E\s+)?)?(?:ba|z|da|k)?sh\b|\b(?:ba|z)?sh\s+(?:<\(\s*|-c\s+["']?\$\(\s*)(?:curl|wget)\b[^\n]*`)
	reURL         = regexp.MustCompile(`https?://[^\s"'|)]+`)
	reBranchURL   = regexp.MustCompile(`/(?:main|master|HEAD|develop|trunk)/|refs/heads/`)
	reSHAInURL    = regexp.MustCompile(`[/=@][0-9a-f]{40}(?:[/?#]|$)`)
)

// checkRemoteScript reports scripts that pipe a download into a shell.
func (fc *fileCtx) checkRemoteScript(run *actionlint.String) {
	if run == nil {
		return
	}
	for _, m := range rePipeToShell.FindAllStringIndex(run.Value, -1) {
		cmd := run.Value[m[0]:m[1]]
		url := reURL.FindString(cmd)
		line, col := fc.posIn(run, m[0])
		switch {
		case url != "" && reBranchURL.MatchString(url) && !reSHAInURL.MatchString(url):
			fc.add(diag.Error, ruleRemoteScript, line, col, "script from %q is piped into a shell and follows a branch, so anyone who can push there runs code in this job; download a release or commit-pinned file and verify its sha256 before running it", url)
		case url == "":
			fc.add(diag.Warning, ruleRemoteScript, line, col, "a downloaded script is piped into a shell without verification; download it to a file and verify its sha256 before running it")
		default:
			fc.add(diag.Warning, ruleRemoteScript, line, col, "script from %q is piped into a shell without verification; download it to a file and verify its sha256 before running it", url)
		}
	}
}
