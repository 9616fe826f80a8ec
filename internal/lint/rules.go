package lint

import (
	"sort"

	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
)

// ruleDef describes one brickci rule. new is nil for rules that do not run
// inside the actionlint pass (cross-file and bookkeeping rules).
type ruleDef struct {
	id    string
	doc   string
	level diag.Severity
	new   func(*fileCtx) actionlint.Rule
}

// brickciRules is the registry, in the order the rules run. Each rule's
// file adds itself in init.
var brickciRules []ruleDef

func registerRule(r ruleDef) {
	brickciRules = append(brickciRules, r)
}

// bookkeeping rules that are not visitors.
func init() {
	registerRule(ruleDef{id: ruleSuppression, level: diag.Warning,
		doc: "a `# brickci:ignore[rule] reason` comment must name the rule and give a reason; without a reason it suppresses nothing"})
	registerRule(ruleDef{id: "external-tools", level: diag.Info,
		doc: "shellcheck and pyflakes check scripts in run: only when they are on PATH; install them for those checks"})
}

// actionlintDocs are the rule kinds actionlint reports, so that SARIF
// consumers see a description for them too.
var actionlintDocs = map[string]string{
	"syntax-check":        "actionlint: workflow syntax is invalid; fix the key or value it names",
	"expression":          "actionlint: ${{ }} expression is invalid, mistyped or untrusted input in a script",
	"action":              "actionlint: uses: names an invalid action or passes inputs it does not define",
	"events":              "actionlint: the on: section names an unknown event or filter",
	"job-needs":           "actionlint: needs: refers to a missing job or forms a cycle",
	"matrix":              "actionlint: strategy.matrix has duplicate or invalid values",
	"runner-label":        "actionlint: runs-on names an unknown runner label",
	"shell-name":          "actionlint: shell: names an unavailable shell",
	"id":                  "actionlint: job or step id is invalid or duplicated",
	"glob":                "actionlint: a branch, tag or path filter glob is invalid",
	"credentials":         "actionlint: container credentials are hard-coded",
	"env-var":             "actionlint: environment variable name is invalid",
	"workflow-call":       "actionlint: a reusable workflow call is invalid",
	"deprecated-commands": "actionlint: a deprecated workflow command (set-output, save-state, ...) is used",
	"if-cond":             "actionlint: an if: condition is always true",
	"shellcheck":          "shellcheck: a problem in a run: script",
	"pyflakes":            "pyflakes: a problem in a Python run: script",
	"permissions":         "actionlint: a permission scope or value is invalid",
}

// Rules documents every rule lint can report, sorted by id: brickci's own
// rules and the actionlint kinds. It is meant for SARIF output.
func Rules() []diag.RuleDoc {
	docs := map[string]diag.RuleDoc{}
	for id, d := range actionlintDocs {
		docs[id] = diag.RuleDoc{ID: id, Short: d, Level: diag.Error}
	}
	for _, r := range brickciRules {
		short := r.doc
		if old, ok := docs[r.id]; ok {
			short = r.doc + "; " + old.Short
		}
		docs[r.id] = diag.RuleDoc{ID: r.id, Short: short, Help: r.doc, Level: r.level}
	}
	out := make([]diag.RuleDoc, 0, len(docs))
	for _, d := range docs {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ruleBase embeds actionlint's base (for the no-op visitor methods) and the
// file the rule reports into. brickci rules never use RuleBase.Errorf:
// their findings carry their own severity.
type ruleBase struct {
	actionlint.RuleBase
	fc *fileCtx
}

func newRuleBase(id, doc string, fc *fileCtx) ruleBase {
	return ruleBase{RuleBase: actionlint.NewRuleBase(id, doc), fc: fc}
}
