package lint

import (
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
)

const ruleFloatVersion = "float-version"

func init() {
	registerRule(ruleDef{id: ruleFloatVersion, level: diag.Error,
		doc: "an unquoted version such as 3.10 is a YAML number and becomes 3.1; quote versions in with: of setup-* actions and in matrices",
		new: func(fc *fileCtx) actionlint.Rule { return &ruleFloat{newRuleBase(ruleFloatVersion, "", fc)} }})
}

type ruleFloat struct{ ruleBase }

var reFloatLike = regexp.MustCompile(`^\d+\.\d+$`)

// lossyFloat reports whether YAML reads s as a number that prints
// differently (3.10 → 3.1), returning what it becomes.
func lossyFloat(s string) (string, bool) {
	if !reFloatLike.MatchString(s) {
		return "", false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return "", false
	}
	got := strconv.FormatFloat(f, 'f', -1, 64)
	return got, got != s
}

func (r *ruleFloat) VisitStep(s *actionlint.Step) error {
	a, uses := stepUses(s)
	if a == nil {
		return nil
	}
	r.fc.checkVersionInputs(uses, a.Inputs)
	return nil
}

// checkVersionInputs checks the *-version inputs of setup-* actions.
func (fc *fileCtx) checkVersionInputs(uses string, inputs map[string]*actionlint.Input) {
	name := actionName(uses)
	if i := strings.IndexByte(name, '/'); i < 0 || !strings.HasPrefix(name[i+1:], "setup-") {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(inputs)) {
		in := inputs[k]
		if !strings.HasSuffix(k, "-version") || in.Value == nil || in.Value.Quoted {
			continue
		}
		if got, lossy := lossyFloat(strings.TrimSpace(in.Value.Value)); lossy {
			fc.addAt(diag.Error, ruleFloatVersion, in.Value.Pos, "%s: %s is read by YAML as the number %s; quote it: %s: %q", in.Name.Value, in.Value.Value, got, in.Name.Value, in.Value.Value)
		}
	}
}

func (r *ruleFloat) VisitJobPre(j *actionlint.Job) error {
	if j.Strategy == nil || j.Strategy.Matrix == nil {
		return nil
	}
	m := j.Strategy.Matrix
	names := make([]string, 0, len(m.Rows))
	for n := range m.Rows {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		row := m.Rows[n]
		for _, v := range row.Values {
			r.checkRaw(row.Name.Value, v)
		}
	}
	for _, combos := range []*actionlint.MatrixCombinations{m.Include, m.Exclude} {
		if combos == nil {
			continue
		}
		for _, c := range combos.Combinations {
			for _, k := range slices.Sorted(maps.Keys(c.Assigns)) {
				r.checkRaw(c.Assigns[k].Key.Value, c.Assigns[k].Value)
			}
		}
	}
	return nil
}

// checkRaw checks one matrix value. actionlint's raw YAML strings do not
// record quoting, so the source at the value's position tells.
func (r *ruleFloat) checkRaw(key string, v actionlint.RawYAMLValue) {
	switch v := v.(type) {
	case *actionlint.RawYAMLArray:
		for _, e := range v.Elems {
			r.checkRaw(key, e)
		}
	case *actionlint.RawYAMLString:
		pos := v.Pos()
		if pos == nil {
			return
		}
		src := r.fc.line(pos.Line)
		if pos.Col >= 1 && pos.Col-1 < len(src) && (src[pos.Col-1] == '"' || src[pos.Col-1] == '\'') {
			return
		}
		if got, lossy := lossyFloat(strings.TrimSpace(v.Value)); lossy {
			r.fc.addAt(diag.Error, ruleFloatVersion, pos, "matrix value %s of %q is read by YAML as the number %s; quote it: %q", v.Value, key, got, v.Value)
		}
	}
}
