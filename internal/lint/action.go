package lint

import (
	"strings"

	"github.com/rhysd/actionlint"
	"gopkg.in/yaml.v3"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/yamlpos"
)

// reYAMLLine finds the line number in a yaml.v3 error message.
// lintActionMetadata checks a local action's action.yml. actionlint lints
// workflows only, so the steps of a composite action get brickci's step
// checks here: pinning, SHA-pinned inputs, float versions, remote scripts
// and untrusted github.* values in scripts.
func (fc *fileCtx) lintActionMetadata() {
	var doc yaml.Node
	if err := yaml.Unmarshal(fc.src, &doc); err != nil {
		line, msg := yamlpos.Error(err)
		fc.add(diag.Error, "syntax-check", line, 0, "could not parse action metadata: %s; fix the YAML", msg)
		return
	}
	if len(doc.Content) == 0 {
		fc.add(diag.Error, "syntax-check", 1, 1, "action metadata is empty; it needs name, description and runs")
		return
	}
	root := doc.Content[0]
	runs := mapValue(root, "runs")
	if runs == nil {
		fc.add(diag.Error, "syntax-check", root.Line, root.Column, "action metadata has no runs: section; add runs.using")
		return
	}
	if u := mapValue(runs, "using"); u == nil || u.Value != "composite" {
		return
	}
	steps := mapValue(runs, "steps")
	if steps == nil || steps.Kind != yaml.SequenceNode {
		return
	}
	for _, step := range steps.Content {
		if step.Kind != yaml.MappingNode {
			continue
		}
		if run := mapValue(step, "run"); run != nil {
			s := nodeString(run)
			fc.checkRemoteScript(s)
			fc.checkInjection(s, nil)
		}
		usesNode := mapValue(step, "uses")
		if usesNode == nil {
			continue
		}
		uses := nodeString(usesNode)
		fc.checkPinned(uses)
		names := map[string]*actionlint.String{}
		inputs := map[string]*actionlint.Input{}
		if with := mapValue(step, "with"); with != nil && with.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(with.Content); i += 2 {
				k := nodeString(with.Content[i])
				id := strings.ToLower(k.Value)
				names[id] = k
				inputs[id] = &actionlint.Input{Name: k, Value: nodeString(with.Content[i+1])}
			}
		}
		fc.checkSHAPinInputs(uses, names)
		fc.checkVersionInputs(uses.Value, inputs)
		if in, ok := inputs["script"]; ok && actionName(uses.Value) == "actions/github-script" {
			fc.checkInjection(in.Value, nil)
		}
	}
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func nodeString(n *yaml.Node) *actionlint.String {
	return &actionlint.String{
		Value:  n.Value,
		Quoted: n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0,
		Pos:    &actionlint.Pos{Line: n.Line, Col: n.Column},
	}
}
