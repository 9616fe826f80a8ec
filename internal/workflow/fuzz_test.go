package workflow

import (
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// FuzzMarshalRoundTrip checks that every string the emitter writes reads
// back as the same string: quoting, literal blocks and comments must never
// change a value, whatever it holds ("3.10", "on", "# x", ": ", newlines…).
func FuzzMarshalRoundTrip(f *testing.F) {
	for _, s := range []string{"3.10", "on", "yes", "~", "null", "- x", "a: b", "#c", "x #y", "'q'", "\"d\"", "", " lead", "trail ", "a\nb", "a\n\nb\n", "\tx", "${{ inputs.x }}", "*a", "&b", "!t", "%p", "@x", "`x`", "0x1F", "1e3", ".5", "-", "---", "...", "a\r\nb", "\u00a0", "|", ">"} {
		f.Add(s, s+"\n", s)
	}
	f.Fuzz(func(t *testing.T, name, run, value string) {
		for _, s := range []string{name, run, value} {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\x00") {
				return
			}
		}
		w := &Workflow{
			Name: name,
			On:   Triggers{Push: &Filter{Branches: []string{value}}, WorkflowDispatch: true},
			Env:  []KV{{Key: "V", Value: value}},
			Jobs: []Job{{ID: "j", Name: name, RunsOn: "ubuntu-latest", If: value, TimeoutMinutes: 5,
				Steps: []Step{{Name: name, Run: run, With: []KV{{Key: "v", Value: value}}, Env: []KV{{Key: "E", Value: value}}}}}},
		}
		out, err := Marshal(w, &Header{Source: "spec.yaml", SHA256: "00"})
		if err != nil {
			return // the emitter may refuse a value it cannot write; it must not mangle one
		}
		var got struct {
			Name string            `yaml:"name"`
			Env  map[string]string `yaml:"env"`
			On   struct {
				Push struct {
					Branches []string `yaml:"branches"`
				} `yaml:"push"`
			} `yaml:"on"`
			Jobs map[string]struct {
				Name  string `yaml:"name"`
				If    string `yaml:"if"`
				Steps []struct {
					Name string            `yaml:"name"`
					Run  string            `yaml:"run"`
					With map[string]string `yaml:"with"`
					Env  map[string]string `yaml:"env"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(out, &got); err != nil {
			t.Fatalf("emitted YAML does not parse: %v\n%s", err, out)
		}
		j := got.Jobs["j"]
		if len(j.Steps) != 1 {
			t.Fatalf("steps lost:\n%s", out)
		}
		s := j.Steps[0]
		checks := []struct{ what, got, want string }{
			{"workflow name", got.Name, name}, {"job name", j.Name, name}, {"step name", s.Name, name},
			{"run", s.Run, run}, {"with", s.With["v"], value}, {"step env", s.Env["E"], value},
			{"workflow env", got.Env["V"], value}, {"if", j.If, value},
		}
		if len(got.On.Push.Branches) == 1 {
			checks = append(checks, struct{ what, got, want string }{"branch", got.On.Push.Branches[0], value})
		} else {
			t.Fatalf("branches lost:\n%s", out)
		}
		for _, c := range checks {
			if c.got != c.want && !(c.want == "" && c.got == "") {
				t.Errorf("%s: wrote %q, read back %q\n%s", c.what, c.want, c.got, out)
			}
		}
	})
}
