package lint

import (
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
)

const ruleSHAPinInputs = "sha-pin-inputs"

func init() {
	registerRule(ruleDef{id: ruleSHAPinInputs, level: diag.Error,
		doc: "a SHA-pinned popular action with a `# vX.Y.Z` comment gets the input checks actionlint only does for tags: unknown inputs and missing required inputs",
		new: func(fc *fileCtx) actionlint.Rule { return &ruleSHAPin{newRuleBase(ruleSHAPinInputs, "", fc)} }})
}

type ruleSHAPin struct{ ruleBase }

func (r *ruleSHAPin) VisitStep(s *actionlint.Step) error {
	a, _ := stepUses(s)
	if a == nil {
		return nil
	}
	inputs := map[string]*actionlint.String{}
	for k, in := range a.Inputs {
		inputs[k] = in.Name
	}
	r.fc.checkSHAPinInputs(a.Uses, inputs)
	return nil
}

// popularMetadata finds actionlint's metadata for the action at the tag in
// its version comment, trying v1.2.3, v1.2 and v1 in turn because the data
// set is keyed by the tags people use (mostly the major one).
func popularMetadata(action, tag string) (*actionlint.ActionMetadata, string) {
	tag = "v" + strings.TrimPrefix(tag, "v")
	parts := strings.Split(tag, ".")
	for n := len(parts); n >= 1; n-- {
		spec := action + "@" + strings.Join(parts[:n], ".")
		if m, ok := actionlint.PopularActions[spec]; ok {
			return m, spec
		}
		if _, ok := actionlint.OutdatedPopularActionSpecs[spec]; ok {
			return nil, spec
		}
	}
	return nil, ""
}

// checkSHAPinInputs checks the inputs of a SHA-pinned uses: against the
// popular-action metadata of the tag in its version comment. inputs maps
// lower-case input names to their key in the file.
func (fc *fileCtx) checkSHAPinInputs(uses *actionlint.String, inputs map[string]*actionlint.String) {
	if uses == nil || uses.Pos == nil {
		return
	}
	action, ref, ok := splitUses(strings.TrimSpace(uses.Value))
	if !ok || !reSHA.MatchString(ref) {
		return
	}
	m := reVersionComment.FindStringSubmatch(fc.line(uses.Pos.Line))
	if m == nil {
		return
	}
	meta, spec := popularMetadata(action, m[1])
	if spec == "" {
		return
	}
	if meta == nil {
		fc.addAt(diag.Error, ruleSHAPinInputs, uses.Pos, "%q (%s) runs on a runtime GitHub no longer supports; update it to a current release", uses.Value, spec)
		return
	}
	if meta.SkipInputs {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(inputs)) {
		if _, ok := meta.Inputs[k]; !ok {
			fc.addAt(diag.Error, ruleSHAPinInputs, inputs[k].Pos, "input %q is not defined by %s (pinned by sha); available inputs are %s", inputs[k].Value, spec, quotedInputs(meta, false))
		}
	}
	var required []string
	for k, in := range meta.Inputs {
		if in.Required {
			if _, ok := inputs[k]; !ok {
				required = append(required, in.Name)
			}
		}
	}
	sort.Strings(required)
	for _, name := range required {
		fc.addAt(diag.Error, ruleSHAPinInputs, uses.Pos, "missing input %q which %s (pinned by sha) requires; all required inputs are %s", name, spec, quotedInputs(meta, true))
	}
}

func quotedInputs(meta *actionlint.ActionMetadata, requiredOnly bool) string {
	var ns []string
	for _, in := range meta.Inputs {
		if !requiredOnly || in.Required {
			ns = append(ns, `"`+in.Name+`"`)
		}
	}
	sort.Strings(ns)
	return strings.Join(ns, ", ")
}
